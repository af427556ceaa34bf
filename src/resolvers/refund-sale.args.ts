import { IsOptional } from 'class-validator';
import { ArgsType, Field, ID, Int } from 'type-graphql';

@ArgsType()
export class RefundSaleArgs {
  @Field(() => ID, { description: 'UUID of the sale to refund.' })
  saleId!: string;

  @Field(() => String, {
    nullable: true,
    description:
      "Why (1-500 visible characters, trimmed). Required when an admin's percent differs from the policy's.",
  })
  @IsOptional()
  reason?: string | null;

  @Field(() => Int, {
    nullable: true,
    description:
      "Admins only (a customer passing it is FORBIDDEN): the share to give back, 0-100. Defaults to the policy's for this moment.",
  })
  @IsOptional()
  percent?: number | null;
}
