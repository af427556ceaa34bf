import { type ReservationStatus, type SeatStatus } from '../entities/enums';

/** A seat as of one status change; `version` orders changes of the same seat. */
export interface SeatSnapshot {
  readonly id: string;
  readonly sessionId: string;
  readonly row: string;
  readonly number: number;
  readonly status: SeatStatus;
  readonly version: number;
}

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
  'seat.status-changed': SeatStatusChangedEvent;
}

export type BookingTopic = keyof BookingEventMap;

/** One event with its topic, as written to the outbox. */
export type BookingEvent = {
  [Topic in BookingTopic]: { readonly topic: Topic; readonly payload: BookingEventMap[Topic] };
}[BookingTopic];
