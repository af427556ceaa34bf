import { randomFillSync } from 'node:crypto';
import { badUserInput, DomainError, ErrorCode } from '../errors/domain-error';

let lastMilliseconds = 0;
let sequence = 0;

// Random bytes are drawn from the system 4 KiB at a time, not 16 bytes per id: one call into
// OpenSSL per 256 ids (issue 16's profile showed the per-id call). Each id copies its 16 bytes
// out, so no two ids share random bits.
const RANDOM_POOL_IDS = 256;
const randomPool = Buffer.alloc(16 * RANDOM_POOL_IDS);
let randomPoolOffset = randomPool.length;

function sixteenRandomBytes(): Buffer {
  if (randomPoolOffset === randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const bytes = Buffer.from(randomPool.subarray(randomPoolOffset, randomPoolOffset + 16));
  randomPoolOffset += 16;
  return bytes;
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. IDs made by
 * one process sort in creation order, even within one millisecond (a 12-bit counter fills
 * `rand_a`), which keeps B-tree inserts at the right edge of the index.
 */
export function uuidv7(): string {
  let now = Date.now();
  if (now <= lastMilliseconds) {
    sequence += 1;
    if (sequence > 0xfff) {
      // Counter exhausted inside one millisecond: borrow the next millisecond.
      lastMilliseconds += 1;
      sequence = 0;
    }
    now = lastMilliseconds;
  } else {
    lastMilliseconds = now;
    sequence = 0;
  }
  const bytes = sixteenRandomBytes();
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = 0x70 | (sequence >> 8);
  bytes[7] = sequence & 0xff;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True when `value` is a UUID in canonical textual form (any version). */
export function isUuid(value: string): boolean {
  return UUID_PATTERN.test(value);
}

/**
 * `value` in the one case ids are compared in (lower, as PostgreSQL prints UUIDs): ids are
 * matched case-insensitively everywhere (arguments, cache keys, events).
 */
export function foldIdCase(value: string): string {
  return value.toLowerCase();
}

/** `value` in canonical form ({@link foldIdCase}) when it is a UUID, else null. */
export function canonicalId(value: string): string | null {
  return isUuid(value) ? foldIdCase(value) : null;
}

/**
 * The one way an id enters the application: checked as a UUID and lower-cased (ids are matched
 * case-insensitively; PostgreSQL prints them lower-case, and caches and events key by them).
 *
 * @throws DomainError BAD_USER_INPUT with `field`, message `<field> must be a UUID.`
 */
export function parseId(field: string, value: string): string {
  const id = canonicalId(value);
  if (id === null) {
    throw badUserInput(field, `${field} must be a UUID.`);
  }
  return id;
}

/**
 * {@link parseId} for a list: every malformed one is reported at once, under `field` and in
 * `details[field]`.
 *
 * @throws DomainError BAD_USER_INPUT with `field` and the malformed values.
 */
export function parseIds(
  field: string,
  values: readonly string[],
  message = `Each of ${field} must be a UUID.`,
): string[] {
  const ids = values.map(canonicalId);
  const malformed = values.filter((_value, index) => ids[index] === null);
  if (malformed.length > 0) {
    throw new DomainError(ErrorCode.BadUserInput, message, { field, [field]: malformed });
  }
  return ids as string[];
}
