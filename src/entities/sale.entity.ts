import { EntityRepositoryType, type Opt, type Ref } from '@mikro-orm/core';
import {
  Check,
  Entity,
  Enum,
  Index,
  ManyToOne,
  OneToOne,
  PrimaryKey,
  Property,
} from '@mikro-orm/decorators/legacy';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { uuidv7 } from '../infra/uuid';
import { SaleRepository } from '../repositories/sale.repository';
import { DateTimeScalar } from '../scalars/date-time.scalar';
import { SaleStatus } from './enums';
import { Reservation } from './reservation.entity';
import { Session } from './session.entity';

/**
 * The paid, permanent record of a confirmed reservation. At most one per reservation. A refund
 * marks it REFUNDED (and adds a `Refund` row); it is never deleted.
 */
@ObjectType({
  description: 'The paid, permanent record of a confirmed reservation (kept when refunded: see `status`).',
})
// The repository is named lazily: it imports this entity too.
@Entity({ tableName: 'sale', repository: () => SaleRepository })
@Index({ name: 'sale_user_id_id_index', properties: ['userId', 'id'] })
@Check({ name: 'sale_amount_cents_check', expression: 'amount_cents >= 0' })
export class Sale {
  [EntityRepositoryType]?: SaleRepository;

  @Field(() => ID, { description: 'UUID of the sale.' })
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @Field(() => ID, { description: 'Who paid.' })
  @Property({ type: 'text' })
  userId!: string;

  /** Unique: a reservation is sold at most once, whatever the retries. */
  @OneToOne(() => Reservation, { ref: true, owner: true, unique: 'sale_reservation_unique' })
  reservation!: Ref<Reservation>;

  @ManyToOne(() => Session, { ref: true })
  session!: Ref<Session>;

  @Field(() => Int, { description: 'Amount paid: session price times number of seats, in cents.' })
  @Property({ type: 'integer' })
  amountCents!: number;

  @Field(() => DateTimeScalar, { description: 'When the payment was confirmed.' })
  @Property({ type: 'timestamptz' })
  createdAt!: Date;

  /** PAID until refunded (existing rows became PAID with the column). */
  @Field(() => SaleStatus, { description: 'PAID, or REFUNDED once refunded (then `refund` says how much).' })
  @Enum({ items: () => SaleStatus, type: 'text' })
  status: SaleStatus & Opt = SaleStatus.PAID;
}
