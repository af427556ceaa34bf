import { Collection, EntityRepositoryType, type Opt, type Ref } from '@mikro-orm/core';
import {
  Check,
  Entity,
  Enum,
  Formula,
  Index,
  ManyToOne,
  OneToMany,
  PrimaryKey,
  Property,
  Unique,
} from '@mikro-orm/decorators/legacy';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { uuidv7 } from '../infra/uuid';
import { DateTimeScalar } from '../scalars/date-time.scalar';
import { ReservationRepository } from '../repositories/reservation.repository';
import { ReservationStatus } from './enums';
import { holdEndedSql } from './hold-rules';
import { ReservationSeat } from './reservation-seat.entity';
import { Session } from './session.entity';

/** A user's hold on 1–10 seats of one session, until paid, cancelled or expired. */
@ObjectType({ description: "A user's hold on seats of one session, until paid, cancelled or expired." })
// The repository is named lazily: it imports this entity too.
@Entity({ tableName: 'reservation', repository: () => ReservationRepository })
@Unique({ name: 'reservation_user_idempotency_key_unique', properties: ['userId', 'idempotencyKey'] })
@Index({ name: 'reservation_user_status_index', properties: ['userId', 'status'] })
@Index({ name: 'reservation_status_expires_at_index', properties: ['status', 'expiresAt'] })
@Check({ name: 'reservation_total_cents_check', expression: 'total_cents >= 0' })
@Check({
  name: 'reservation_user_id_check',
  expression: 'char_length(user_id) >= 1 and char_length(user_id) <= 200',
})
@Check({ name: 'reservation_expires_at_check', expression: 'expires_at > created_at' })
export class Reservation {
  [EntityRepositoryType]?: ReservationRepository;

  @Field(() => ID, { description: 'UUID of the reservation.' })
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @Field(() => ID, { description: 'Who made it (the `sub` of their token).' })
  @Property({ type: 'text' })
  userId!: string;

  @ManyToOne(() => Session, { ref: true })
  session!: Ref<Session>;

  @Enum({ items: () => ReservationStatus, type: 'text' })
  status: ReservationStatus & Opt = ReservationStatus.PENDING;

  @Field(() => DateTimeScalar, { description: 'When the hold ends if not paid (database clock).' })
  @Property({ type: 'timestamptz' })
  expiresAt!: Date;

  @Field(() => DateTimeScalar, { description: 'When the reservation was made.' })
  @Property({ type: 'timestamptz' })
  createdAt!: Date;

  @Property({ type: 'timestamptz' })
  updatedAt!: Date;

  @Field(() => Int, { description: 'Price of the seats held, in cents.' })
  @Property({ type: 'integer' })
  totalCents!: number;

  /** Client-chosen key: the same key from the same user returns this reservation again. */
  @Property({ type: 'text', nullable: true })
  idempotencyKey: string | null = null;

  /** Token of the Redis seat locks taken for this hold; only its owner may release them. */
  @Property({ type: 'text', nullable: true })
  lockToken: string | null = null;

  /**
   * Whether the hold has ended by the database clock when this row was read (see
   * `hold-rules.ts`). Only meaningful while PENDING; never written.
   */
  @Formula((columns) => holdEndedSql(columns.expiresAt, 'now()'), { type: 'boolean' })
  holdEnded?: boolean & Opt;

  @OneToMany(() => ReservationSeat, (reservationSeat) => reservationSeat.reservation)
  seats = new Collection<ReservationSeat>(this);
}
