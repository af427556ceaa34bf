import { ReservationStatus } from '../entities/enums';
import { type Refund } from '../entities/refund.entity';
import { type Reservation } from '../entities/reservation.entity';
import { type Sale } from '../entities/sale.entity';
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
  /**
   * The session's map version this change made: each committed change of a session's seats
   * adds exactly one, so subscribers see consecutive numbers (see `SeatChangeLog`).
   */
  readonly mapVersion: number;
  readonly sessionId: string;
  readonly reservationId: string | null;
  readonly seats: readonly SeatSnapshot[];
  /** ISO-8601, database clock. */
  readonly changedAt: string;
}

/** A seat change as a use case records it: its map version is assigned at commit. */
export type SeatChangeDraft = Omit<SeatStatusChangedEvent, 'mapVersion'>;

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

/** A sale was refunded (`sale.refunded`): who asked, how much, and the seats it was for. */
export interface SaleRefundedEvent {
  readonly saleId: string;
  readonly refundId: string;
  readonly reservationId: string;
  /** The sale's owner (who paid), whoever asked for the refund. */
  readonly userId: string;
  readonly sessionId: string;
  /** Refunded: floor(saleAmountCents × percent / 100). */
  readonly amountCents: number;
  /** What the sale was paid. */
  readonly saleAmountCents: number;
  /** 0-100. */
  readonly percent: number;
  readonly reason: string | null;
  /** User id of who asked: the owner or an admin. */
  readonly refundedBy: string;
  /** Every seat of the sale, sorted (back on sale only when `seatsReleased`). */
  readonly seatIds: readonly string[];
  /** True when the session had not started: the seats became AVAILABLE (`seat.status-changed`). */
  readonly seatsReleased: boolean;
  /** ISO-8601, database clock. */
  readonly changedAt: string;
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
  'sale.refunded': SaleRefundedEvent;
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

/**
 * What a `reservation.*` event tells of its reservation: a {@link Reservation}, or the values
 * of one just written (a new hold's, mapped to an entity only after commit).
 */
export type ReservationEventSource = Pick<
  Reservation,
  'id' | 'userId' | 'status' | 'totalCents' | 'expiresAt'
> & {
  readonly session: { readonly id: string };
};

/** The payload of `reservation.*` for `reservation` as it now is. */
export function reservationChanged(
  reservation: ReservationEventSource,
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
): SeatChangeDraft | null {
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

/** The payload of `sale.refunded` for `sale`, just refunded by `refund`. */
export function saleRefunded(
  sale: Sale,
  refund: Refund,
  seatIds: readonly string[],
  seatsReleased: boolean,
): SaleRefundedEvent {
  return {
    saleId: sale.id,
    refundId: refund.id,
    reservationId: sale.reservation.id,
    userId: sale.userId,
    sessionId: sale.session.id,
    amountCents: refund.amountCents,
    saleAmountCents: sale.amountCents,
    percent: refund.percent,
    reason: refund.reason,
    refundedBy: refund.refundedBy,
    seatIds: [...seatIds],
    seatsReleased,
    changedAt: refund.createdAt.toISOString(),
  };
}
