import { ReservationStatus } from '../entities/enums';
import { type Reservation } from '../entities/reservation.entity';
import { type ExpiredReservation } from '../repositories/reservation.repository';
import { type SeatReadModel } from '../repositories/seat-read-model';

/**
 * A seat as of one status change: the seat read model without its row position (readers
 * derive it from `row`); `version` orders changes of the same seat. The layout facts (`x`,
 * `category`, `kind`, `priceCents`) never change, but are carried so that subscribers need no
 * read; events stored before they existed lack them (see `seat-status-change.type.ts`).
 */
export type SeatSnapshot = Pick<
  SeatReadModel,
  'id' | 'sessionId' | 'row' | 'number' | 'status' | 'version' | 'x' | 'category' | 'kind' | 'priceCents'
>;

/** Seats of one session whose status changed together, in one committed transaction. */
export interface SeatStatusChangedEvent {
  readonly sessionId: string;
  readonly reservationId: string | null;
  readonly seats: readonly SeatSnapshot[];
  /** ISO-8601, database clock. */
  readonly changedAt: string;
}

/** A reservation's new state. */
export interface ReservationChangedEvent {
  readonly reservationId: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly status: ReservationStatus;
  readonly seatIds: readonly string[];
  readonly totalCents: number;
  /** ISO-8601. */
  readonly expiresAt: string;
  /** ISO-8601, database clock. */
  readonly changedAt: string;
  /** Set on `reservation.confirmed`. */
  readonly saleId?: string;
}

/**
 * Every domain event, by routing key. Outbox rows, the broker and the in-process pub/sub all
 * use these names and payloads, so the compiler checks producers against consumers.
 */
export interface BookingEventMap {
  'reservation.created': ReservationChangedEvent;
  'reservation.confirmed': ReservationChangedEvent;
  'reservation.cancelled': ReservationChangedEvent;
  'reservation.expired': ReservationChangedEvent;
  /** A running hold's end moved later (`expiresAt`); its seats' status and versions did not change. */
  'reservation.extended': ReservationChangedEvent;
  'seat.status-changed': SeatStatusChangedEvent;
}

export type BookingTopic = keyof BookingEventMap;

/** One event with its topic, as written to the outbox. */
export type BookingEvent = {
  [Topic in BookingTopic]: { readonly topic: Topic; readonly payload: BookingEventMap[Topic] };
}[BookingTopic];

/** The snapshot of a changed seat, as events carry it (exactly these fields: it is stored). */
export function seatSnapshot(seat: SeatReadModel): SeatSnapshot {
  return {
    id: seat.id,
    sessionId: seat.sessionId,
    row: seat.row,
    number: seat.number,
    status: seat.status,
    version: seat.version,
    x: seat.x,
    category: seat.category,
    kind: seat.kind,
    priceCents: seat.priceCents,
  };
}

/** The payload of `reservation.*` for `reservation` as it now is. */
export function reservationChanged(
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

/** The payload of `reservation.expired` for a reservation the expiry statement just moved. */
export function reservationExpiredEvent(reservation: ExpiredReservation): ReservationChangedEvent {
  return {
    reservationId: reservation.id,
    userId: reservation.userId,
    sessionId: reservation.sessionId,
    status: ReservationStatus.EXPIRED,
    seatIds: reservation.seatIds,
    totalCents: reservation.totalCents,
    expiresAt: reservation.expiresAt.toISOString(),
    changedAt: reservation.databaseNow.toISOString(),
  };
}

/**
 * The payload of `seat.status-changed` for seats of one session that one transaction changed;
 * null when none changed (no event then).
 */
export function seatStatusChanged(
  sessionId: string,
  reservationId: string | null,
  seats: readonly SeatReadModel[],
  changedAt: Date,
): SeatStatusChangedEvent | null {
  if (seats.length === 0) {
    return null;
  }
  return {
    sessionId,
    reservationId,
    seats: seats.map(seatSnapshot),
    changedAt: changedAt.toISOString(),
  };
}
