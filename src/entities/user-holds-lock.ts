import { Routine } from '@mikro-orm/core';
import { holdRunningSql } from './hold-rules';

// Per-user advisory locks live in their own key space: (namespace, hash of the user id).
const USER_HOLDS_LOCK_NAMESPACE = 7_204;

// The lock's SQL for the user id `holder` (a parameter or a column).
function userHoldsLockSql(holder: string): string {
  return `pg_advisory_xact_lock(${USER_HOLDS_LOCK_NAMESPACE}, hashtext(${holder}))`;
}

/**
 * SQL (an expression, with one `?` parameter: the user id) that takes the transaction-scoped
 * lock serialising one user's reserves, so that they are counted against the pending-holds
 * limit one after the other. Keyed by a 32-bit hash of the user id: besides the user's own
 * reserves only a rare colliding user shares it.
 */
export const USER_HOLDS_LOCK_SQL = userHoldsLockSql('?');

/**
 * The database function that takes the lock of {@link USER_HOLDS_LOCK_SQL} and then counts the
 * user's running holds at `counted_at`. Volatile, in statements of its own: under READ
 * COMMITTED its count then gets a snapshot of its own, taken after the lock was granted, so
 * the count includes what the lock's previous holder committed even though it runs inside the
 * one statement that waited for the lock (a hold needs no statement of its own for the lock).
 */
export const RUNNING_HOLDS_AFTER_USER_LOCK = new Routine({
  name: 'running_holds_after_user_lock',
  type: 'function',
  language: 'sql',
  deterministic: false,
  params: { holder: { type: 'text' }, counted_at: { type: 'timestamptz' } },
  returns: { runtimeType: 'number', columnType: 'integer' },
  body: [
    `select ${userHoldsLockSql('holder')};`,
    `select count(*)::int from reservation where user_id = holder and status = 'PENDING' and ${holdRunningSql('expires_at', 'counted_at')};`,
  ].join(' '),
});

/** Every database function, in one list shared by the app, the CLI and the tests. */
export const ROUTINES = [RUNNING_HOLDS_AFTER_USER_LOCK];

/**
 * SQL (an expression, with one `?` parameter: the user id) that calls
 * {@link RUNNING_HOLDS_AFTER_USER_LOCK} at `now`.
 */
export function runningHoldsAfterUserLockSql(now: string): string {
  return `${RUNNING_HOLDS_AFTER_USER_LOCK.name}(?, ${now})`;
}
