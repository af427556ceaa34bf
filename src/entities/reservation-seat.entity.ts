import { Entity, Index, ManyToOne, type Opt, PrimaryKeyProp, Property, type Ref } from '@mikro-orm/core';
import { Reservation } from './reservation.entity';
import { Seat } from './seat.entity';

/**
 * A seat held by a reservation. `live` mirrors "the reservation is PENDING or CONFIRMED" so
 * that the database itself refuses a second live reservation of a seat (partial unique
 * index below): PostgreSQL, not Redis, is the final guard against double booking.
 */
@Entity({ tableName: 'reservation_seat' })
@Index({
  name: 'reservation_seat_live_seat_unique',
  expression:
    'create unique index "reservation_seat_live_seat_unique" on "reservation_seat" ("seat_id") where "live"',
})
@Index({ name: 'reservation_seat_seat_index', properties: ['seat'] })
export class ReservationSeat {
  [PrimaryKeyProp]?: ['reservation', 'seat'];

  @ManyToOne(() => Reservation, { primary: true, ref: true })
  reservation!: Ref<Reservation>;

  @ManyToOne(() => Seat, { primary: true, ref: true })
  seat!: Ref<Seat>;

  @Property({ type: 'boolean' })
  live: boolean & Opt = true;
}
