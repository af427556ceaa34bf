import { badUserInput } from '../errors/domain-error';

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

/** Opaque cursor: base64url of the JSON key of the last row seen. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** Decodes a cursor made by {@link encodeCursor}; BAD_USER_INPUT (field `after`) otherwise. */
export function decodeCursor(cursor: string, length: number): string[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== length || !key.every((part) => typeof part === 'string')) {
    throw badUserInput('after', 'after is not a cursor returned by this API.');
  }
  return key as string[];
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
