import { type EntityManager } from '@mikro-orm/postgresql';
import { type Reservation } from '../../entities/reservation.entity';
import { DomainError, ErrorCode, notFound } from '../../errors/domain-error';
import { isLockTimeout } from '../../infra/database-errors';
import { type RequestDeadline } from '../../infra/request-deadline';
import { inSpan, type Span } from '../../infra/tracing';
import { parseId } from '../../infra/uuid';
import { repositoriesOf } from '../../repositories';
import { ReservationConflict } from '../../repositories/reservation.repository';
import { type SessionFacts } from '../../repositories/session.repository';
import { type BookingDependencies } from '../booking-dependencies';
import { seatUnavailable } from '../booking-errors';
import { type Caller } from '../caller';
import { expireOverdue } from '../expire-overdue';
import { attemptHold, groupable, type HoldAttempt, type HoldRequest } from './hold-seats';
import { previousReservation, replayReservation } from './idempotent-replay';
import { validateSeatSelection } from './validate-selection';

/** What `reserve` asks for. */
export interface ReserveCommand {
  readonly sessionId: string;
  readonly seatIds: readonly string[];
  readonly idempotencyKey?: string | null;
}

/**
 * Holds all `seatIds` of one session for `holdSeconds`, or none of them.
 *
 * With an `idempotencyKey`, every use of the key by the caller (concurrent ones included, and
 * retries after any failure) answers with the one reservation it made.
 *
 * Steps: validate the selection, replay a used key, read the session, take the Redis seat
 * locks, hold in one PostgreSQL transaction (expiring ended holds in the way and trying once
 * more), and on any failure release the locks.
 *
 * @param deadline the HTTP request's: the hold commits before it or not at all.
 * @throws DomainError BAD_USER_INPUT, NOT_FOUND, SESSION_CLOSED, SEAT_UNAVAILABLE (with
 *   `seatIds`), LIMIT_EXCEEDED, RATE_LIMITED (too many of the caller's reserves at once),
 *   TIMEOUT. On any error nothing is left behind: no row, lock or event.
 */
export async function reserve(
  deps: BookingDependencies,
  em: EntityManager,
  caller: Caller,
  command: ReserveCommand,
  deadline?: RequestDeadline,
): Promise<Reservation> {
  return inSpan('reserve', (span) =>
    observed(deps, () => reserveOnce(deps, em, caller, command, deadline), span),
  );
}

/**
 * Tells the observer how a reserve (of any kind) ended: `held`, or the error code; names the
 * reservation on the use case's `span` (when traced).
 */
export async function observed(
  deps: BookingDependencies,
  work: () => Promise<Reservation>,
  span?: Span,
): Promise<Reservation> {
  try {
    const reservation = await work();
    span?.setAttribute('poltrona.reservation.id', reservation.id);
    deps.observer?.reserved('held');
    return reservation;
  } catch (error) {
    deps.observer?.reserved(error instanceof DomainError ? error.code : ErrorCode.InternalServerError);
    throw error;
  }
}

async function reserveOnce(
  deps: BookingDependencies,
  em: EntityManager,
  caller: Caller,
  command: ReserveCommand,
  deadline: RequestDeadline | undefined,
): Promise<Reservation> {
  const seatIds = validateSeatSelection(command.seatIds);
  const sessionId = parseId('sessionId', command.sessionId);
  const idempotencyKey = command.idempotencyKey ?? null;
  const replay = (previous: Reservation) =>
    replayReservation(
      em,
      previous,
      sessionId,
      (previousSeatIds) => previousSeatIds.join(',') === seatIds.join(','),
    );
  const previous = await previousReservation(em, caller, idempotencyKey);
  if (previous) {
    return replay(previous);
  }
  const session = await findSessionFacts(deps, em, sessionId);
  return holdSelection(deps, em, { caller, session, seatIds, idempotencyKey, deadline }, replay);
}

/** The session's facts (possibly cached). @throws DomainError NOT_FOUND */
export async function findSessionFacts(
  deps: BookingDependencies,
  em: EntityManager,
  sessionId: string,
): Promise<SessionFacts> {
  const session = await (deps.sessionFacts ?? readSessionFacts)(em, sessionId);
  if (!session) {
    throw notFound('Session', sessionId);
  }
  return session;
}

/** A selection to hold: the seats of one session, chosen by the caller or for them. */
export type Selection = Omit<HoldRequest, 'lockToken'>;

/**
 * Holds one selection, all or none: takes the Redis seat locks, holds in one PostgreSQL
 * transaction (expiring ended holds in the way and trying once more), and on any failure
 * releases the locks. A concurrent first use of the same idempotency key is answered by
 * `replay` of the reservation it made.
 *
 * @throws DomainError as {@link reserve}, and SEAT_GAP.
 */
export async function holdSelection(
  deps: BookingDependencies,
  em: EntityManager,
  selection: Selection,
  replay: (previous: Reservation) => Promise<Reservation>,
): Promise<Reservation> {
  const { caller, session, seatIds, idempotencyKey } = selection;
  const locks = await deps.seatLocks.acquire(session.id, seatIds, {
    deferConflicts: idempotencyKey !== null,
  });
  if (locks.outcome === 'conflict') {
    throw seatUnavailable(locks.heldSeatIds);
  }
  const request: HoldRequest = { ...selection, lockToken: locks.token };
  let attempt: Awaited<ReturnType<typeof holdSeats>>;
  try {
    attempt = await holdSeats(deps, em, request);
  } catch (error) {
    await releaseLocks(deps, request);
    if (error instanceof ReservationConflict && error.kind === 'seat-taken') {
      // The conditional update makes this unreachable; the index is the last line of defence.
      throw seatUnavailable(seatIds);
    }
    if (isLockTimeout(error)) {
      // Other transactions kept these seats locked past lock_timeout: they are being taken.
      throw seatUnavailable(seatIds);
    }
    if (idempotencyKey !== null && error instanceof ReservationConflict && error.kind === 'idempotency-key') {
      // A concurrent request with the same key won; answer with its reservation.
      const previous = await repositoriesOf(em.fork()).reservations.findByIdempotencyKey(
        caller.userId,
        idempotencyKey,
      );
      if (previous) {
        return replay(previous);
      }
    }
    throw error;
  }
  if (attempt.kind === 'key-used') {
    await releaseLocks(deps, request);
    return replay(attempt.previous);
  }
  return attempt.reservation;
}

/** Holds the seats: in a group commit when the process groups holds and this one can be grouped, else in a transaction of its own. */
async function holdSeats(
  deps: BookingDependencies,
  em: EntityManager,
  request: HoldRequest,
): Promise<Exclude<HoldAttempt, { kind: 'stale-hold' }>> {
  const { holdBatcher } = deps;
  if (holdBatcher === undefined || !groupable(request)) {
    return holdAgainIfStale(deps, em, request, await attemptHold(deps, em, request));
  }
  // Admitted once for all its transactions: the group's, and its own when the group did not hold it.
  return deps.transactions.admitted(async (transactions) => {
    const admitted = { ...deps, transactions };
    const first = (await holdBatcher.hold(em, request)) ?? (await attemptHold(admitted, em, request));
    return holdAgainIfStale(admitted, em, request, first);
  });
}

/**
 * After a first attempt: when ended holds are in the way, expires them (in a transaction of
 * their own, keeping the lock order reservation -> seats) and tries once more.
 */
async function holdAgainIfStale(
  deps: BookingDependencies,
  em: EntityManager,
  request: HoldRequest,
  first: HoldAttempt,
): Promise<Exclude<HoldAttempt, { kind: 'stale-hold' }>> {
  if (first.kind !== 'stale-hold') {
    return first;
  }
  await expireOverdue(deps, em, { holdingSeatIds: request.seatIds }, request.deadline);
  const second = await attemptHold(deps, em, request);
  if (second.kind === 'stale-hold') {
    // Someone else took the freed seat first.
    throw seatUnavailable(request.seatIds);
  }
  return second;
}

async function releaseLocks(deps: BookingDependencies, request: HoldRequest): Promise<void> {
  if (request.lockToken) {
    await deps.seatLocks.release(request.session.id, request.seatIds, request.lockToken);
  }
}

function readSessionFacts(em: EntityManager, sessionId: string): Promise<SessionFacts | null> {
  return repositoriesOf(em).sessions.findFacts(sessionId);
}
