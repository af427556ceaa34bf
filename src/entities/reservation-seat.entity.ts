import { type Opt, PrimaryKeyProp, type Ref } from '@mikro-orm/core';
import { Entity, Index, ManyToOne, Property } from '@mikro-orm/decorators/legacy';
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

  // 'no action' as in the migrations: MikroORM 7 would otherwise make a foreign key that is
  // part of the primary key `on delete cascade`.
  @ManyToOne(() => Reservation, { primary: true, ref: true, deleteRule: 'no action' })
  reservation!: Ref<Reservation>;

  @ManyToOne(() => Seat, { primary: true, ref: true, deleteRule: 'no action' })
  seat!: Ref<Seat>;

  @Property({ type: 'boolean' })
  live: boolean & Opt = true;
}
