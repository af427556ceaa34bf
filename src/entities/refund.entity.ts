import { EntityRepositoryType, type Opt, type Ref } from '@mikro-orm/core';
import { Check, Entity, OneToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { uuidv7 } from '../infra/uuid';
import { RefundRepository } from '../repositories/refund.repository';
import { DateTimeScalar } from '../scalars/date-time.scalar';
import { Sale } from './sale.entity';

/** Longest refund reason, in characters (after trimming). */
export const MAX_REFUND_REASON_LENGTH = 500;

/**
 * Money given back for a sale: at most one per sale (the unique `sale_id` makes a second one
 * impossible, whatever the retries or races), written in the transaction that marks the sale
 * REFUNDED.
 */
@ObjectType({ description: 'Money given back for a sale: how much, why and who asked.' })
// The repository is named lazily: it imports this entity too.
@Entity({ tableName: 'refund', repository: () => RefundRepository })
@Check({ name: 'refund_percent_check', expression: 'percent >= 0 and percent <= 100' })
@Check({ name: 'refund_amount_cents_check', expression: 'amount_cents >= 0' })
@Check({
  name: 'refund_reason_check',
  expression: `reason is null or (char_length(reason) >= 1 and char_length(reason) <= ${MAX_REFUND_REASON_LENGTH})`,
})
@Check({
  name: 'refund_refunded_by_check',
  expression: 'char_length(refunded_by) >= 1 and char_length(refunded_by) <= 200',
})
export class Refund {
  [EntityRepositoryType]?: RefundRepository;

  @Field(() => ID, { description: 'UUID of the refund.' })
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  /** Unique: a sale is refunded at most once. */
  @OneToOne(() => Sale, { ref: true, owner: true, unique: 'refund_sale_unique' })
  sale!: Ref<Sale>;

  @Field(() => Int, {
    description: "Amount given back, in cents: floor(the sale's amountCents × percent / 100).",
  })
  @Property({ type: 'integer' })
  amountCents!: number;

  @Field(() => Int, {
    description:
      "Share of the sale given back, 0-100: the policy's (100 more than 24 h before the start, 50 more than 12 h before, else 0) unless an admin chose another.",
  })
  @Property({ type: 'integer' })
  percent!: number;

  @Field(() => String, {
    nullable: true,
    description: 'Why, as given (trimmed); always set when an admin chose a percent other than the policy.',
  })
  @Property({ type: 'text', nullable: true })
  reason: string | null = null;

  @Field(() => DateTimeScalar, { description: 'When the sale was refunded (database clock).' })
  @Property({ type: 'timestamptz' })
  createdAt!: Date;

  @Field(() => ID, { description: 'User id of who asked for the refund: the owner or an admin.' })
  @Property({ type: 'text' })
  refundedBy!: string;
}
