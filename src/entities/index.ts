import { Auditorium } from './auditorium.entity';
import { ConsumedMessage } from './consumed-message.entity';
import { OutboxEvent } from './outbox-event.entity';
import { Refund } from './refund.entity';
import { ReservationSeat } from './reservation-seat.entity';
import { Reservation } from './reservation.entity';
import { Sale } from './sale.entity';
import { SeatChange } from './seat-change.entity';
import { Seat } from './seat.entity';
import { Session } from './session.entity';

/** Every entity, in one list shared by the app, the CLI and the tests. */
export const ENTITIES = [
  Auditorium,
  Session,
  Seat,
  SeatChange,
  Reservation,
  ReservationSeat,
  Sale,
  Refund,
  OutboxEvent,
  ConsumedMessage,
];
