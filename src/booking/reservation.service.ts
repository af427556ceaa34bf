import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { type EntityManager } from '@mikro-orm/postgresql';
import { ReservationStatus } from '../entities/enums';
import { type Reservation } from '../entities/reservation.entity';
import { Sale } from '../entities/sale.entity';
import {
  badUserInput,
  DomainError,
  ErrorCode,
  forbidden,
  notFound,
  rateLimited,
} from '../errors/domain-error';
import { type Viewer } from '../infra/auth';
import { isLockTimeout } from '../infra/database';
import { type RequestDeadline } from '../infra/request-deadline';
import { type SeatLocks } from '../infra/seat-locks';
import { isUuid, uuidv7 } from '../infra/uuid';
import { type ReservationChangedEvent, type SeatSnapshot } from './booking-events';
import { type BookingTransactions, type EventRecorder } from './booking-transaction';
import {
  type ExpiredReservation,
  type OverdueCriteria,
  type ReservationRepository,
} from './reservation.repository';
import { type SaleRepository } from './sale.repository';
import { type ChangedSeat, type SeatRepository } from './seat.repository';
import { type SessionRepository } from './session.repository';

/** Seats in one reservation, at most. */
export const MAX_SEATS_PER_RESERVATION = 10;
/** PENDING reservations one user may hold at once. */
export const MAX_ACTIVE_HOLDS_PER_USER = 5;

/** What `reserve` asks for. */
export interface ReserveCommand {
  readonly sessionId: string;
  readonly seatIds: readonly string[];
  readonly idempotencyKey?: string | null;
}

/** Logs what the caller is not told (degraded Redis, failed lock releases). */
export interface BookingLogger {
  warn(message: string, details?: Record<string, unknown>): void;
}

/** Told how reserves end, for metrics. */
export interface ReserveObserver {
  /** `held`, or the error code. */
  reserved(outcome: string): void;
  /** A Redis lock turned the request away before PostgreSQL. */
  lockConflict(): void;
}

export interface ReservationServiceDependencies {
  readonly transactions: BookingTransactions;
  readonly seatLocks: SeatLocks;
  readonly sessions: SessionRepository;
  readonly seats: SeatRepository;
  readonly reservations: ReservationRepository;
  readonly sales: SaleRepository;
  readonly holdSeconds: number;
  readonly logger: BookingLogger;
  readonly observer?: ReserveObserver;
}

// Thrown inside a reserve transaction when a wanted seat is held by a reservation whose time
// is up: the transaction rolls back, the stale hold is expired in its own transaction
// (keeping the lock order reservation -> seats), and the reserve runs again.
class StaleHoldFound extends Error {}

// Thrown inside a reserve transaction when a concurrent first use of the same idempotency key
// committed while this one waited for the user's lock: this transaction rolls back and the
// request answers with that reservation.
class IdempotencyKeyUsed extends Error {
  constructor(readonly previous: Reservation) {
    super('The idempotency key was used by a concurrent request.');
  }
}

// Seconds a user whose own reserves queue up on their per-user lock should wait.
const USER_LOCK_RETRY_AFTER_SECONDS = 1;

const seatUnavailable = (seatIds: readonly string[]): DomainError =>
  new DomainError(ErrorCode.SeatUnavailable, 'Some seats are already held or sold.', {
    seatIds: [...seatIds],
  });

const reservationExpired = (reservationId: string): DomainError =>
  new DomainError(ErrorCode.ReservationExpired, 'The reservation has expired; its seats were released.', {
    reservationId,
  });

function isUniqueViolation(error: unknown, constraint: string): boolean {
  return error instanceof UniqueConstraintViolationException && error.message.includes(constraint);
}

function snapshot(seat: ChangedSeat): SeatSnapshot {
  return {
    id: seat.id,
    sessionId: seat.sessionId,
    row: seat.row,
    number: seat.number,
    status: seat.status,
    version: seat.version,
  };
}

/**
 * The reservation lifecycle: reserve (hold seats), confirm payment (sell them), cancel, and
 * expiry. Each use case is one PostgreSQL transaction that also writes its events to the
 * outbox; PostgreSQL's conditional updates and unique index decide every race, while the Redis
 * seat locks only turn most contenders away early.
 */
export class ReservationService {
  constructor(private readonly deps: ReservationServiceDependencies) {}

  /**
   * Holds all `seatIds` of one session for `holdSeconds`, or none of them.
   *
   * With an `idempotencyKey`, every use of the key by the viewer (concurrent ones included, and
   * retries after any failure) answers with the one reservation it made.
   *
   * @param deadline the HTTP request's: the hold commits before it or not at all.
   * @throws DomainError BAD_USER_INPUT, NOT_FOUND, SESSION_CLOSED, SEAT_UNAVAILABLE (with
   *   `seatIds`), LIMIT_EXCEEDED, RATE_LIMITED (too many of the viewer's reserves at once),
   *   TIMEOUT. On any error nothing is left behind: no row, lock or event.
   */
  async reserve(
    em: EntityManager,
    viewer: Viewer,
    command: ReserveCommand,
    deadline?: RequestDeadline,
  ): Promise<Reservation> {
    try {
      const reservation = await this.reserveOnce(em, viewer, command, deadline);
      this.deps.observer?.reserved('held');
      return reservation;
    } catch (error) {
      this.deps.observer?.reserved(error instanceof DomainError ? error.code : 'INTERNAL_SERVER_ERROR');
      throw error;
    }
  }

  private async reserveOnce(
    em: EntityManager,
    viewer: Viewer,
    command: ReserveCommand,
    deadline: RequestDeadline | undefined,
  ): Promise<Reservation> {
    const seatIds = this.validateSeatSelection(command.seatIds);
    const sessionId = command.sessionId.toLowerCase();
    const idempotencyKey = command.idempotencyKey ?? null;
    if (idempotencyKey !== null) {
      const previous = await this.deps.reservations.findByIdempotencyKey(em, viewer.userId, idempotencyKey);
      if (previous) {
        return this.replay(em, previous, sessionId, seatIds);
      }
    }
    const session = await this.deps.sessions.findFacts(em, sessionId);
    if (!session) {
      throw notFound('Session', sessionId);
    }
    if (session.startsAt.getTime() <= Date.now()) {
      throw new DomainError(ErrorCode.SessionClosed, 'The session has already started.', {
        sessionId: session.id,
      });
    }

    const lockToken = await this.acquireLocks(session.id, seatIds, idempotencyKey);
    try {
      return await this.holdSeats(em, viewer, session, seatIds, { idempotencyKey, lockToken, deadline });
    } catch (error) {
      if (lockToken) {
        await this.releaseLocks(session.id, seatIds, lockToken);
      }
      if (error instanceof IdempotencyKeyUsed) {
        return this.replay(em, error.previous, sessionId, seatIds);
      }
      if (isUniqueViolation(error, 'reservation_seat_live_seat_unique')) {
        // The conditional update makes this unreachable; the index is the last line of defence.
        throw seatUnavailable(seatIds);
      }
      if (isLockTimeout(error)) {
        // Other transactions kept these seats locked past lock_timeout: they are being taken.
        throw seatUnavailable(seatIds);
      }
      if (idempotencyKey !== null && isUniqueViolation(error, 'reservation_user_idempotency_key_unique')) {
        // A concurrent request with the same key won; answer with its reservation.
        const previous = await this.deps.reservations.findByIdempotencyKey(
          em.fork(),
          viewer.userId,
          idempotencyKey,
        );
        if (previous) {
          return this.replay(em, previous, sessionId, seatIds);
        }
      }
      throw error;
    }
  }

  /**
   * Turns the caller's PENDING reservation into a Sale; calling it again returns the same Sale.
   *
   * @param deadline the HTTP request's: the payment commits before it or not at all.
   * @throws DomainError NOT_FOUND, FORBIDDEN (not the owner), RESERVATION_EXPIRED (the hold
   *   ended: its seats are released), INVALID_STATE (cancelled), TIMEOUT.
   */
  async confirmPayment(
    em: EntityManager,
    viewer: Viewer,
    reservationId: string,
    deadline?: RequestDeadline,
  ): Promise<Sale> {
    const outcome = await this.deps.transactions.run(em, deadline, async (tx, events) => {
      const locked = await this.lockOwned(tx, viewer, reservationId);
      const { reservation, databaseNow } = locked;
      if (reservation.status === ReservationStatus.CONFIRMED) {
        const [sale] = await this.deps.sales.findByReservations(tx, [reservation.id]);
        return { sale, reservation };
      }
      if (reservation.status === ReservationStatus.CANCELLED) {
        throw new DomainError(ErrorCode.InvalidState, 'The reservation was cancelled.', { reservationId });
      }
      if (reservation.status === ReservationStatus.EXPIRED) {
        throw reservationExpired(reservationId);
      }
      if (locked.overdue) {
        await this.expireInTransaction(tx, events, { reservationIds: [reservation.id] });
        return { expired: true as const };
      }
      const sold = await this.deps.seats.sellHeldBy(tx, reservation.id);
      reservation.status = ReservationStatus.CONFIRMED;
      reservation.updatedAt = databaseNow;
      const sale = tx.create(Sale, {
        userId: reservation.userId,
        reservation,
        session: reservation.session,
        amountCents: reservation.totalCents,
        createdAt: databaseNow,
      });
      events.record('reservation.confirmed', {
        ...this.reservationEvent(reservation, sold.map((seat) => seat.id).sort(), databaseNow),
        saleId: sale.id,
      });
      this.recordSeatChange(events, reservation.session.id, reservation.id, sold, databaseNow);
      return { sale, reservation };
    });
    if ('expired' in outcome) {
      throw reservationExpired(reservationId);
    }
    await this.releaseLocksOf(em, outcome.reservation);
    return outcome.sale;
  }

  /**
   * Cancels the caller's PENDING reservation and frees its seats. Cancelling an already
   * cancelled reservation returns it unchanged.
   *
   * @param deadline the HTTP request's: the cancellation commits before it or not at all.
   * @throws DomainError NOT_FOUND, FORBIDDEN, RESERVATION_EXPIRED, INVALID_STATE (confirmed),
   *   TIMEOUT.
   */
  async cancelReservation(
    em: EntityManager,
    viewer: Viewer,
    reservationId: string,
    deadline?: RequestDeadline,
  ): Promise<Reservation> {
    const outcome = await this.deps.transactions.run(em, deadline, async (tx, events) => {
      const { reservation, overdue, databaseNow } = await this.lockOwned(tx, viewer, reservationId);
      switch (reservation.status) {
        case ReservationStatus.CANCELLED:
          return { reservation, changed: false };
        case ReservationStatus.CONFIRMED:
          throw new DomainError(ErrorCode.InvalidState, 'A confirmed reservation cannot be cancelled.', {
            reservationId,
          });
        case ReservationStatus.EXPIRED:
          throw reservationExpired(reservationId);
        case ReservationStatus.PENDING:
          break;
      }
      if (overdue) {
        await this.expireInTransaction(tx, events, { reservationIds: [reservation.id] });
        return { expired: true as const };
      }
      const released = await this.deps.seats.releaseHeldBy(tx, [reservation.id]);
      reservation.status = ReservationStatus.CANCELLED;
      reservation.updatedAt = databaseNow;
      const seatIds = await this.seatIdsOf(tx, reservation.id);
      events.record('reservation.cancelled', this.reservationEvent(reservation, seatIds, databaseNow));
      this.recordSeatChange(events, reservation.session.id, reservation.id, released, databaseNow);
      return { reservation, changed: true };
    });
    if ('expired' in outcome) {
      throw reservationExpired(reservationId);
    }
    if (outcome.changed) {
      await this.releaseLocksOf(em, outcome.reservation);
    }
    return outcome.reservation;
  }

  /**
   * Expires overdue PENDING reservations and frees their seats, with events. Idempotent:
   * a reservation already confirmed, cancelled or expired is left alone.
   *
   * @param deadline the HTTP request's, when a request does this on its way.
   */
  async expireOverdue(
    em: EntityManager,
    criteria: OverdueCriteria,
    deadline?: RequestDeadline,
  ): Promise<ExpiredReservation[]> {
    return this.deps.transactions.run(em, deadline, (tx, events) =>
      this.expireInTransaction(tx, events, criteria),
    );
  }

  /** A reservation the viewer may see (owner or admin). */
  async getReservation(em: EntityManager, viewer: Viewer, reservationId: string): Promise<Reservation> {
    const reservation = await this.deps.reservations.findById(em, reservationId);
    if (!reservation) {
      throw notFound('Reservation', reservationId);
    }
    if (reservation.userId !== viewer.userId && !viewer.isAdmin) {
      throw forbidden('This reservation belongs to another user.');
    }
    return reservation;
  }

  /** The viewer's reservations, newest first (at most 200). */
  async listMine(em: EntityManager, viewer: Viewer, status?: ReservationStatus): Promise<Reservation[]> {
    return this.deps.reservations.findForUser(em, viewer.userId, status);
  }

  private validateSeatSelection(seatIds: readonly string[]): string[] {
    if (seatIds.length === 0) {
      throw badUserInput('seatIds', 'Choose at least one seat.');
    }
    if (seatIds.length > MAX_SEATS_PER_RESERVATION) {
      throw badUserInput('seatIds', `A reservation holds at most ${MAX_SEATS_PER_RESERVATION} seats.`);
    }
    const malformed = seatIds.filter((seatId) => !isUuid(seatId));
    if (malformed.length > 0) {
      throw new DomainError(ErrorCode.BadUserInput, 'Seat ids must be UUIDs.', {
        field: 'seatIds',
        seatIds: malformed,
      });
    }
    const normalised = seatIds.map((seatId) => seatId.toLowerCase());
    if (new Set(normalised).size !== normalised.length) {
      throw badUserInput('seatIds', 'Each seat may appear only once.');
    }
    return normalised.sort();
  }

  /** The first answer for an idempotency key, if the request is the same one. */
  private async replay(
    em: EntityManager,
    previous: Reservation,
    sessionId: string,
    seatIds: readonly string[],
  ): Promise<Reservation> {
    const previousSeatIds = (await this.seatIdsOf(em, previous.id)).join(',');
    if (previous.session.id !== sessionId || previousSeatIds !== seatIds.join(',')) {
      throw badUserInput(
        'idempotencyKey',
        'This idempotencyKey was already used for a different reservation.',
      );
    }
    return previous;
  }

  /**
   * Redis fast path. Null when Redis is unreachable, or when the seats are locked but the
   * request has an idempotency key (the locks may be a concurrent use of that very key, which
   * only PostgreSQL can tell): PostgreSQL alone then decides.
   */
  private async acquireLocks(
    sessionId: string,
    seatIds: readonly string[],
    idempotencyKey: string | null,
  ): Promise<string | null> {
    let result;
    try {
      result = await this.deps.seatLocks.acquire(sessionId, seatIds, this.deps.holdSeconds * 1_000);
    } catch (error) {
      this.deps.logger.warn('Redis unavailable: reserving through PostgreSQL alone', {
        error: String(error),
      });
      return null;
    }
    if (!result.acquired) {
      if (idempotencyKey !== null) {
        return null;
      }
      this.deps.observer?.lockConflict();
      throw seatUnavailable(result.heldSeatIds);
    }
    return result.token;
  }

  private async releaseLocks(sessionId: string, seatIds: readonly string[], token: string): Promise<void> {
    try {
      await this.deps.seatLocks.release(sessionId, seatIds, token);
    } catch (error) {
      // The lock's TTL ends it anyway; PostgreSQL stays the judge meanwhile.
      this.deps.logger.warn('Could not release seat locks', { sessionId, error: String(error) });
    }
  }

  private async releaseLocksOf(em: EntityManager, reservation: Reservation): Promise<void> {
    if (reservation.lockToken) {
      const seatIds = await this.seatIdsOf(em, reservation.id);
      await this.releaseLocks(reservation.session.id, seatIds, reservation.lockToken);
    }
  }

  private async holdSeats(
    em: EntityManager,
    viewer: Viewer,
    session: { id: string; priceCents: number },
    seatIds: readonly string[],
    request: HoldRequest,
  ): Promise<Reservation> {
    const attempt = () =>
      this.deps.transactions.run(em, request.deadline, (tx, events) =>
        this.holdSeatsInTransaction(tx, events, viewer, session, seatIds, request),
      );
    try {
      return await attempt();
    } catch (error) {
      if (!(error instanceof StaleHoldFound)) {
        throw error;
      }
    }
    await this.expireOverdue(em, { holdingSeatIds: seatIds }, request.deadline);
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof StaleHoldFound) {
        // Someone else took the freed seat first.
        throw seatUnavailable(seatIds);
      }
      throw error;
    }
  }

  private async holdSeatsInTransaction(
    tx: EntityManager,
    events: EventRecorder,
    viewer: Viewer,
    session: { id: string; priceCents: number },
    seatIds: readonly string[],
    { idempotencyKey, lockToken }: HoldRequest,
  ): Promise<Reservation> {
    await this.lockUserHolds(tx, viewer.userId);
    if (idempotencyKey !== null) {
      // A concurrent first use of this key may have committed while this one waited for the
      // user's lock; under READ COMMITTED this new statement sees it.
      const previous = await this.deps.reservations.findByIdempotencyKey(tx, viewer.userId, idempotencyKey);
      if (previous) {
        throw new IdempotencyKeyUsed(previous);
      }
    }
    const { activeHolds, held } = await this.deps.seats.holdAvailableWithinLimit(tx, {
      userId: viewer.userId,
      maxActiveHolds: MAX_ACTIVE_HOLDS_PER_USER,
      sessionId: session.id,
      seatIds,
      holdSeconds: this.deps.holdSeconds,
    });
    if (activeHolds >= MAX_ACTIVE_HOLDS_PER_USER) {
      throw new DomainError(
        ErrorCode.LimitExceeded,
        `You already hold ${MAX_ACTIVE_HOLDS_PER_USER} pending reservations; pay or cancel one first.`,
        { limit: MAX_ACTIVE_HOLDS_PER_USER },
      );
    }
    if (held.length < seatIds.length) {
      const heldIds = new Set(held.map((seat) => seat.id));
      await this.explainUnavailable(
        tx,
        session.id,
        seatIds.filter((seatId) => !heldIds.has(seatId)),
      );
    }
    const { databaseNow, holdExpiresAt } = held[0];
    const reservation = await this.deps.reservations.insertPending(tx, {
      id: uuidv7(),
      userId: viewer.userId,
      sessionId: session.id,
      seatIds,
      expiresAt: holdExpiresAt as Date,
      createdAt: databaseNow,
      totalCents: session.priceCents * seatIds.length,
      idempotencyKey,
      lockToken,
    });
    events.record('reservation.created', this.reservationEvent(reservation, seatIds, databaseNow));
    this.recordSeatChange(events, session.id, reservation.id, held, databaseNow);
    return reservation;
  }

  /**
   * Serialises the user's reserves. The lock is keyed by a 32-bit hash of the user id, so
   * besides the user's own reserves only a rare colliding user shares it; waiting past
   * lock_timeout therefore means too many reserves in flight on that key: a rate limit
   * (retry shortly), not a seat conflict.
   */
  private async lockUserHolds(tx: EntityManager, userId: string): Promise<void> {
    try {
      await this.deps.reservations.lockUserHolds(tx, userId);
    } catch (error) {
      if (isLockTimeout(error)) {
        throw rateLimited(
          'Too many of your reservations are in progress at once; retry shortly.',
          USER_LOCK_RETRY_AFTER_SECONDS,
        );
      }
      throw error;
    }
  }

  /** Always throws: the most helpful error for seats that could not be held. */
  private async explainUnavailable(
    tx: EntityManager,
    sessionId: string,
    missingSeatIds: readonly string[],
  ): Promise<never> {
    const described = await this.deps.seats.describe(tx, missingSeatIds);
    const known = new Set(described.map((seat) => seat.id));
    const unknown = missingSeatIds.filter((seatId) => !known.has(seatId));
    if (unknown.length > 0) {
      throw new DomainError(ErrorCode.NotFound, `Seat ${unknown.join(', ')} does not exist.`, {
        seatIds: unknown,
      });
    }
    const foreign = described.filter((seat) => seat.sessionId !== sessionId).map((seat) => seat.id);
    if (foreign.length > 0) {
      throw new DomainError(ErrorCode.BadUserInput, 'Some seats belong to another session.', {
        field: 'seatIds',
        seatIds: foreign,
      });
    }
    if (described.some((seat) => seat.staleHold)) {
      throw new StaleHoldFound();
    }
    throw seatUnavailable(missingSeatIds);
  }

  private async expireInTransaction(
    tx: EntityManager,
    events: EventRecorder,
    criteria: OverdueCriteria,
  ): Promise<ExpiredReservation[]> {
    const expired = await this.deps.reservations.expireOverdue(tx, criteria);
    if (expired.length === 0) {
      return expired;
    }
    const released = await this.deps.seats.releaseHeldBy(
      tx,
      expired.map((reservation) => reservation.id),
    );
    for (const reservation of expired) {
      events.record('reservation.expired', {
        reservationId: reservation.id,
        userId: reservation.userId,
        sessionId: reservation.sessionId,
        status: ReservationStatus.EXPIRED,
        seatIds: reservation.seatIds,
        totalCents: reservation.totalCents,
        expiresAt: reservation.expiresAt.toISOString(),
        changedAt: reservation.databaseNow.toISOString(),
      });
      const seats = released.filter((seat) => seat.reservationId === reservation.id);
      this.recordSeatChange(events, reservation.sessionId, reservation.id, seats, reservation.databaseNow);
    }
    return expired;
  }

  private async lockOwned(tx: EntityManager, viewer: Viewer, reservationId: string) {
    const locked = await this.deps.reservations.lockForUpdate(tx, reservationId);
    if (!locked) {
      throw notFound('Reservation', reservationId);
    }
    if (locked.reservation.userId !== viewer.userId) {
      throw forbidden('Only the owner of a reservation can change it.');
    }
    return locked;
  }

  private async seatIdsOf(em: EntityManager, reservationId: string): Promise<string[]> {
    const byReservation = await this.deps.reservations.seatIdsByReservations(em, [reservationId]);
    return byReservation.get(reservationId) ?? [];
  }

  private reservationEvent(
    reservation: Reservation,
    seatIds: readonly string[],
    changedAt: Date,
  ): ReservationChangedEvent {
    return {
      reservationId: reservation.id,
      userId: reservation.userId,
      sessionId: reservation.session.id,
      status: reservation.status,
      seatIds: [...seatIds],
      totalCents: reservation.totalCents,
      expiresAt: reservation.expiresAt.toISOString(),
      changedAt: changedAt.toISOString(),
    };
  }

  private recordSeatChange(
    events: EventRecorder,
    sessionId: string,
    reservationId: string,
    seats: readonly ChangedSeat[],
    changedAt: Date,
  ): void {
    if (seats.length === 0) {
      return;
    }
    events.record('seat.status-changed', {
      sessionId,
      reservationId,
      seats: seats.map(snapshot),
      changedAt: changedAt.toISOString(),
    });
  }
}

/** How one reserve request holds its seats. */
interface HoldRequest {
  readonly idempotencyKey: string | null;
  /** The Redis locks' token; null when PostgreSQL alone decides. */
  readonly lockToken: string | null;
  readonly deadline: RequestDeadline | undefined;
}

/** What a reader sees: a PENDING reservation whose hold has ended is EXPIRED. */
export function effectiveReservationStatus(
  reservation: Pick<Reservation, 'status' | 'expiresAt'>,
  now: Date = new Date(),
): ReservationStatus {
  if (reservation.status === ReservationStatus.PENDING && reservation.expiresAt <= now) {
    return ReservationStatus.EXPIRED;
  }
  return reservation.status;
}
