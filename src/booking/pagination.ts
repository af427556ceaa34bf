import { badUserInput } from '../errors/domain-error';
import { canonicalId } from '../infra/uuid';

/** Largest page a client may ask for. */
export const MAX_PAGE_SIZE = 100;

/** A page of a cursor connection, shaped like the GraphQL `*Connection` types. */
export interface Page<Node> {
  readonly edges: { readonly cursor: string; readonly node: Node }[];
  readonly pageInfo: { readonly hasNextPage: boolean; readonly endCursor: string | null };
}

/** Checks a `first` argument. */
export function pageSize(first: number): number {
  if (!Number.isInteger(first) || first < 1 || first > MAX_PAGE_SIZE) {
    throw badUserInput('first', `first must be between 1 and ${MAX_PAGE_SIZE}.`);
  }
  return first;
}

/** What a cursor key holds, part by part: a point in time, or an id. */
export type CursorPart = 'timestamp' | 'uuid';

type CursorValue<Part extends CursorPart> = Part extends 'timestamp' ? Date : string;

/** The decoded key of a cursor whose parts are `Parts`. */
export type CursorKey<Parts extends readonly CursorPart[]> = {
  -readonly [Index in keyof Parts]: CursorValue<Parts[Index]>;
};

// Timestamps as `toISOString()` writes them for years 1970-9999: every `startsAt` or
// `createdAt` this API hands out, and safely within PostgreSQL's range (year 0000 is not).
const TIMESTAMP_PART = /^(19[7-9]\d|[2-9]\d{3})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

// Each part as the API writes it; anything else is a cursor the API did not hand out.
const PART_DECODERS: { readonly [Part in CursorPart]: (text: string) => CursorValue<Part> | undefined } = {
  timestamp: (text) => {
    const date = new Date(text);
    return TIMESTAMP_PART.test(text) && !Number.isNaN(date.getTime()) && date.toISOString() === text
      ? date
      : undefined;
  },
  uuid: (text) => (canonicalId(text) === text ? text : undefined),
};

/** Opaque cursor: base64url of the JSON key of the last row seen (dates as ISO strings). */
export function encodeCursor(key: readonly (Date | string)[]): string {
  const parts = key.map((part) => (part instanceof Date ? part.toISOString() : part));
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeCursor} from a key of `parts`. A cursor the API did
 * not hand out, whether undecodable or decodable but with a value it never writes (such as a
 * date out of range), is refused: the client's mistake, never a database error.
 *
 * @throws DomainError BAD_USER_INPUT (field `after`).
 */
export function decodeCursor<const Parts extends readonly CursorPart[]>(
  cursor: string,
  parts: Parts,
): CursorKey<Parts> {
  const refused = badUserInput('after', 'after is not a cursor returned by this API.');
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw refused;
  }
  if (!Array.isArray(key) || key.length !== parts.length || !key.every((part) => typeof part === 'string')) {
    throw refused;
  }
  const values = parts.map((part, index) => PART_DECODERS[part](key[index] as string));
  // Base64 and JSON both admit other spellings of one key; the API writes exactly one.
  if (values.some((value) => value === undefined) || encodeCursor(key as string[]) !== cursor) {
    throw refused;
  }
  return values as CursorKey<Parts>;
}

/** Builds a page from `first + 1` rows fetched in order. */
export function toPage<Node>(
  rows: readonly Node[],
  first: number,
  cursorOf: (node: Node) => string,
): Page<Node> {
  const nodes = rows.slice(0, first);
  const edges = nodes.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      endCursor: edges.length ? edges[edges.length - 1].cursor : null,
    },
  };
}
