import { registerEnumType } from 'type-graphql';
import { SeatKind } from '../seating/auditorium-layout';

export { SeatKind };

/** Whether a session refuses selections that leave a single free seat between taken ones. */
export enum GapRule {
  OFF = 'OFF',
  NO_SINGLE_SEAT = 'NO_SINGLE_SEAT',
}

/** Stored status of a seat. A RESERVED seat whose hold has ended reads as AVAILABLE. */
export enum SeatStatus {
  AVAILABLE = 'AVAILABLE',
  RESERVED = 'RESERVED',
  SOLD = 'SOLD',
}

/** Lifecycle of a reservation: PENDING, then exactly one of CONFIRMED, EXPIRED, CANCELLED. */
export enum ReservationStatus {
  PENDING = 'PENDING',
  CONFIRMED = 'CONFIRMED',
  EXPIRED = 'EXPIRED',
  CANCELLED = 'CANCELLED',
}

registerEnumType(SeatStatus, {
  name: 'SeatStatus',
  description: 'Whether a seat can be reserved.',
  valuesConfig: {
    AVAILABLE: { description: 'Free to reserve.' },
    RESERVED: { description: 'Held by a PENDING reservation that has not expired.' },
    SOLD: { description: 'Paid for; never becomes available again.' },
  },
});

registerEnumType(ReservationStatus, {
  name: 'ReservationStatus',
  description: 'Where a reservation is in its lifecycle.',
  valuesConfig: {
    PENDING: { description: 'Holding its seats until `expiresAt`, waiting for payment.' },
    CONFIRMED: { description: 'Paid: its seats are SOLD and it has a Sale.' },
    EXPIRED: { description: 'Not paid before `expiresAt`; its seats were released.' },
    CANCELLED: { description: 'Cancelled by its owner; its seats were released.' },
  },
});

registerEnumType(SeatKind, {
  name: 'SeatKind',
  description: 'What a seat is for.',
  valuesConfig: {
    STANDARD: { description: 'An ordinary seat.' },
    WHEELCHAIR: { description: 'A space for a wheelchair.' },
    COMPANION: { description: "A seat for a wheelchair user's companion, beside a WHEELCHAIR space." },
  },
});

registerEnumType(GapRule, {
  name: 'GapRule',
  description: 'Whether a selection may leave a single free seat between taken ones.',
  valuesConfig: {
    OFF: { description: 'Any selection of free seats is accepted.' },
    NO_SINGLE_SEAT: {
      description:
        'A selection that would leave one free seat alone in its row (between taken seats, a gap or the row end) is refused.',
    },
  },
});
