import { DriverException } from '@mikro-orm/postgresql';

// SQLSTATE lock_not_available: a lock wait outlasted lock_timeout.
const LOCK_NOT_AVAILABLE = '55P03';

/**
 * True when PostgreSQL gave up waiting for a lock (lock_timeout). MikroORM maps this state
 * to `LockWaitTimeoutException` only for MySQL; on PostgreSQL it stays a `DriverException`.
 */
export function isLockTimeout(error: unknown): boolean {
  return error instanceof DriverException && error.code === LOCK_NOT_AVAILABLE;
}

/**
 * True when PostgreSQL gave up waiting for a lock inside the function `functionName` (by the
 * error's context, as the server reports it), and, when given, in its statement number
 * `statement` (SQL functions): tells one lock wait from another in a statement that waits for
 * several.
 */
export function isLockTimeoutIn(error: unknown, functionName: string, statement?: number): boolean {
  const where = (error as { where?: unknown } | null)?.where;
  // PostgreSQL names it `SQL function "name" statement 1`, or `PL/pgSQL function name(...) line 1`.
  return (
    isLockTimeout(error) &&
    typeof where === 'string' &&
    new RegExp(`function "?${functionName}\\b`).test(where) &&
    (statement === undefined || where.includes(`statement ${statement}`))
  );
}

// pg-pool's message when no pooled connection freed up within its connectionTimeoutMillis.
const POOL_ACQUIRE_TIMEOUT_MESSAGE = 'timeout exceeded when trying to connect';

/**
 * True when a wait for a pooled connection outlasted `DATABASE_POOL_ACQUIRE_TIMEOUT_MS`: more
 * database work at once than the pool serves, i.e. load, not a fault (MikroORM keeps the message
 * when it wraps the error).
 */
export function isPoolExhausted(error: unknown): boolean {
  return error instanceof Error && error.message === POOL_ACQUIRE_TIMEOUT_MESSAGE;
}

/**
 * The name of the constraint a PostgreSQL error is about (a unique index, a check, a foreign
 * key), as the server reports it: repositories translate violations by this name, never by
 * the message text. MikroORM's exceptions keep the driver error's fields.
 */
export function constraintOf(error: unknown): string | undefined {
  const constraint = (error as { constraint?: unknown } | null)?.constraint;
  return typeof constraint === 'string' ? constraint : undefined;
}
