import { type EntityManager } from '@mikro-orm/postgresql';
import { GapRule, ReservationStatus, SeatKind } from '../../entities/enums';
import { Reservation } from '../../entities/reservation.entity';
import { DomainError, ErrorCode, rateLimited } from '../../errors/domain-error';
import { isLockTimeout, isLockTimeoutIn } from '../../infra/database-errors';
import { type TraceParent, withinContext } from '../../infra/tracing';
import { type RequestDeadline } from '../../infra/request-deadline';
import { uuidv7 } from '../../infra/uuid';
import { repositoriesOf } from '../../repositories';
import { type NewPendingReservation } from '../../repositories/reservation.repository';
import { type SeatReadModel } from '../../repositories/seat-read-model';
import { type SessionFacts } from '../../repositories/session.repository';
import { RUNNING_HOLDS_AFTER_USER_LOCK } from '../../entities/user-holds-lock';
import { type BookingDependencies } from '../booking-dependencies';
import { sessionClosed } from '../booking-errors';
import { reservationChanged, seatStatusChanged } from '../booking-events';
import { MAX_ACTIVE_HOLDS_PER_USER } from '../booking-limits';
import { type EventRecorder, RollbackWith } from '../booking-transaction';
import { type Caller } from '../caller';
import { explainUnavailable } from './explain-unavailable';

/** How one reserve request holds its seats. */
export interface HoldRequest {
  readonly caller: Caller;
  readonly session: SessionFacts;
  /** Canonical (lower-case, sorted). */
  readonly seatIds: readonly string[];
  readonly idempotencyKey: string | null;
  /** The Redis locks' token; null when PostgreSQL alone decides. */
  readonly lockToken: string | null;
  readonly deadline: RequestDeadline | undefined;
}

/**
 * How a hold transaction ended. Only `held` commits; the others rolled back, leaving nothing.
 */
export type HoldAttempt =
  | { readonly kind: 'held'; readonly reservation: Reservation }
  /** Some wanted seats are blocked only by ended holds. */
  | { readonly kind: 'stale-hold' }
  /** A concurrent first use of the idempotency key committed while this one waited. */
  | { readonly kind: 'key-used'; readonly previous: Reservation };

// How the transaction ends: the new reservation as written, mapped to an entity after commit.
type TransactionOutcome =
  | Exclude<HoldAttempt, { kind: 'held' }>
  | { readonly kind: 'inserted'; readonly pending: NewPendingReservation };

// Seconds a user whose own reserves queue up on their per-user lock should wait.
const USER_LOCK_RETRY_AFTER_SECONDS = 1;

/**
 * Step 3 of reserve: one transaction that holds all the seats or none, and records the
 * reservation with its events. Without a key or the gap rule it is one statement (the per-user
 * lock, whether the session has started, the conditional hold and the insert of the
 * reservation) and the events' statement at commit. With an idempotency key or the gap rule, the
 * per-user lock (and whether the session has started) comes first as a statement of its own,
 * then the locks of the seats' rows (gap rule) and the key's re-check (key), then the hold, the
 * gap check (gap rule) and the events. Its total is the sum of the held seats' prices.
 *
 * @throws DomainError SESSION_CLOSED, RATE_LIMITED, LIMIT_EXCEEDED, BAD_USER_INPUT
 *   (COMPANION_NEEDS_WHEELCHAIR), SEAT_GAP, and those of
 *   {@link explainUnavailable}.
 */
export async function attemptHold(
  deps: BookingDependencies,
  em: EntityManager,
  request: HoldRequest,
): Promise<HoldAttempt> {
  const outcome = await deps.transactions.run(em, request.deadline, (tx, events) =>
    holdInTransaction(deps, tx, events, request),
  );
  // Mapped outside the transaction, so that its unit of work has nothing to look through at
  // commit (the hold is raw SQL).
  return outcome.kind === 'inserted'
    ? { kind: 'held', reservation: em.getRepository(Reservation).managedPending(outcome.pending) }
    : outcome;
}

/**
 * Whether a hold may join a group commit: its transaction is the hold statement alone (no
 * idempotency key and no gap rule, whose statements run under the user's lock first).
 */
export function groupable(request: HoldRequest): boolean {
  return request.idempotencyKey === null && request.session.gapRule !== GapRule.NO_SINGLE_SEAT;
}

/** What a group commit did with one hold: its new reservation as written, or why not. */
export type GroupedHold =
  | { readonly kind: 'inserted'; readonly pending: NewPendingReservation }
  /** Only ended holds are in the way: expire them, then hold alone. */
  | { readonly kind: 'stale-hold' }
  /** Not held here, for any other reason: hold alone, for its own answer. */
  | { readonly kind: 'alone' };

/**
 * Holds several requests' seats in the one transaction of a group commit, each all or none: a
 * savepoint before each hold, rolled back to when that hold is not made (a seat not free, the
 * user's limit, a started session, the companion rule, a failed statement). A hold does not
 * wait long for a lock held elsewhere (`GROUPED_LOCK_TIMEOUT_SQL`): it drops out and runs alone,
 * instead of holding up the group. The holds run in the trace contexts `contexts` (their
 * requests'), so their events carry their own traces. Returns, in the requests' order, what
 * became of each.
 */
export async function holdEachInTransaction(
  deps: BookingDependencies,
  tx: EntityManager,
  events: EventRecorder,
  requests: readonly HoldRequest[],
  contexts: readonly (TraceParent | undefined)[] = [],
): Promise<GroupedHold[]> {
  const [{ previous }] = await tx.execute<{ previous: string }[]>(SHORT_LOCK_TIMEOUT_SQL);
  const grouped: GroupedHold[] = [];
  for (const [index, request] of requests.entries()) {
    await tx.execute(SAVEPOINT_SQL);
    // Its events are recorded only once the hold is made, so rolling back leaves none.
    const outcome = await withinContext(contexts[index], () =>
      holdInTransaction(deps, tx, events, request),
    ).catch((error: unknown) =>
      error instanceof RollbackWith && (error.outcome as TransactionOutcome).kind === 'stale-hold'
        ? ({ kind: 'stale-hold' } as const)
        : null,
    );
    if (outcome?.kind === 'inserted') {
      grouped.push(outcome);
      continue;
    }
    await tx.execute(ROLLBACK_TO_SAVEPOINT_SQL);
    grouped.push(outcome?.kind === 'stale-hold' ? outcome : { kind: 'alone' });
  }
  // The events statement that follows waits for the sessions' rows as any transaction's does.
  await tx.execute(RESTORE_LOCK_TIMEOUT_SQL, [previous]);
  return grouped;
}

// Each hold of a group commit rolls back to its own savepoint: the latest of this name.
const SAVEPOINT_SQL = 'savepoint hold';
const ROLLBACK_TO_SAVEPOINT_SQL = 'rollback to savepoint hold';
// A grouped hold that would wait for another transaction's lock (a user's hold running alone,
// a seat being expired) gives up after 100 ms and runs alone, where it may wait its turn.
const SHORT_LOCK_TIMEOUT_SQL = `with previous as materialized (select current_setting('lock_timeout') as value)
  select value as previous, set_config('lock_timeout', '100ms', true) from previous`;
const RESTORE_LOCK_TIMEOUT_SQL = `select set_config('lock_timeout', ?, true)`;

async function holdInTransaction(
  deps: BookingDependencies,
  tx: EntityManager,
  events: EventRecorder,
  { caller, session, seatIds, idempotencyKey, lockToken }: HoldRequest,
): Promise<TransactionOutcome> {
  const { reservations, seats, seatRows } = repositoriesOf(tx);
  const noSingleSeat = session.gapRule === GapRule.NO_SINGLE_SEAT;
  if (noSingleSeat || idempotencyKey !== null) {
    // The statements below must run under the user's lock; otherwise the hold statement takes
    // it itself, and the transaction is that one statement.
    await lockUserHolds(deps, tx, caller.userId, session);
  }
  if (noSingleSeat) {
    // Before the hold: the gap check below must see every concurrent change to these rows.
    await seatRows.lockRowsOf(session.id, seatIds);
  }
  if (idempotencyKey !== null) {
    // A concurrent first use of this key may have committed while this one waited for the
    // user's lock; under READ COMMITTED this new statement sees it.
    const previous = await reservations.findByIdempotencyKey(caller.userId, idempotencyKey);
    if (previous) {
      throw new RollbackWith<TransactionOutcome>({ kind: 'key-used', previous });
    }
  }
  const reservationId = uuidv7();
  const outcome = await whileUserLockAnswers(
    () =>
      seats.holdForNewReservation(
        {
          userId: caller.userId,
          maxActiveHolds: MAX_ACTIVE_HOLDS_PER_USER,
          sessionId: session.id,
          sessionStartsAt: session.startsAt,
          seatIds,
          holdSeconds: deps.holdSeconds,
          reservation: { id: reservationId, idempotencyKey, lockToken },
        },
        deps.clock,
      ),
    // The function's first statement is the lock; a wait in its count is not the user's.
    (error) => isLockTimeoutIn(error, RUNNING_HOLDS_AFTER_USER_LOCK.name, 1),
  );
  if (outcome.sessionStarted) {
    throw sessionClosed(session.id);
  }
  if (outcome.activeHolds >= MAX_ACTIVE_HOLDS_PER_USER) {
    throw new DomainError(
      ErrorCode.LimitExceeded,
      `You already hold ${MAX_ACTIVE_HOLDS_PER_USER} pending reservations; pay or cancel one first.`,
      { limit: MAX_ACTIVE_HOLDS_PER_USER },
    );
  }
  if (outcome.held.length < seatIds.length) {
    const heldIds = new Set(outcome.held.map((seat) => seat.id));
    const missing = seatIds.filter((seatId) => !heldIds.has(seatId));
    // Seats it did hold are rolled back with the rest.
    throw new RollbackWith<TransactionOutcome>(await explainUnavailable(tx, session.id, missing, deps.clock));
  }
  checkCompanionSeats(outcome.held);
  if (noSingleSeat) {
    const isolated = await seatRows.findIsolatedBy(session.id, seatIds, deps.clock);
    if (isolated.length > 0) {
      throw new DomainError(
        ErrorCode.SeatGap,
        'This selection would leave single seats alone in their row; take them too, or choose seats that leave two free.',
        { seatIds: isolated },
      );
    }
  }
  if (!outcome.reservationInserted) {
    // Every seat held means inserted; anything else is a broken statement, not an answer.
    throw new Error('The hold statement held every seat but inserted no reservation.');
  }
  const { databaseNow, holdExpiresAt } = outcome;
  // Inserted by the hold statement, since every seat was held.
  const pending: NewPendingReservation = {
    id: reservationId,
    userId: caller.userId,
    sessionId: session.id,
    seatIds,
    expiresAt: holdExpiresAt as Date,
    createdAt: databaseNow,
    totalCents: outcome.held.reduce((total, seat) => total + seat.priceCents, 0),
    idempotencyKey,
    lockToken,
  };
  events.record(
    'reservation.created',
    reservationChanged(
      { ...pending, status: ReservationStatus.PENDING, session: { id: session.id } },
      seatIds,
      databaseNow,
    ),
  );
  const change = seatStatusChanged(session.id, pending.id, outcome.held, databaseNow);
  if (change) {
    events.recordSeatChange(change);
  }
  return { kind: 'inserted', pending };
}

/**
 * A companion seat goes only with a wheelchair space of the same reservation (DESIGN §4.1).
 * Judged on the seats just held, as the hold statement returned them: no extra statement.
 *
 * @throws DomainError BAD_USER_INPUT with `rule` COMPANION_NEEDS_WHEELCHAIR (rolls the hold back).
 */
function checkCompanionSeats(held: readonly SeatReadModel[]): void {
  const companions = held.filter((seat) => seat.kind === SeatKind.COMPANION);
  if (companions.length > 0 && !held.some((seat) => seat.kind === SeatKind.WHEELCHAIR)) {
    throw new DomainError(
      ErrorCode.BadUserInput,
      'A companion seat can only be reserved together with a wheelchair space.',
      { rule: 'COMPANION_NEEDS_WHEELCHAIR', seatIds: companions.map((seat) => seat.id) },
    );
  }
}

/**
 * Serialises the user's reserves, and refuses a session that has started (by the clock): the
 * per-user lock as a statement of its own, for holds with statements to run under it first.
 */
async function lockUserHolds(
  deps: BookingDependencies,
  tx: EntityManager,
  userId: string,
  session: SessionFacts,
): Promise<void> {
  const { sessionStarted } = await whileUserLockAnswers(
    () => repositoriesOf(tx).reservations.lockUserHolds(userId, session.startsAt, deps.clock),
    isLockTimeout,
  );
  if (sessionStarted) {
    throw sessionClosed(session.id);
  }
}

/**
 * Runs `statement`, which waits for the per-user lock. The lock is keyed by a 32-bit hash of
 * the user id, so besides the user's own reserves only a rare colliding user shares it;
 * waiting past lock_timeout for it (`waitedForUserLock`) therefore means too many reserves in
 * flight on that key: a rate limit (retry shortly), not a seat conflict. Other failures, seat
 * row lock waits included, are the caller's.
 */
async function whileUserLockAnswers<Result>(
  statement: () => Promise<Result>,
  waitedForUserLock: (error: unknown) => boolean,
): Promise<Result> {
  try {
    return await statement();
  } catch (error) {
    if (waitedForUserLock(error)) {
      throw rateLimited(
        'Too many of your reservations are in progress at once; retry shortly.',
        USER_LOCK_RETRY_AFTER_SECONDS,
      );
    }
    throw error;
  }
}
