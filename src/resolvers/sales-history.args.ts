import { IsOptional, Max, MaxLength, Min, MinLength } from 'class-validator';
import { ArgsType, Field, ID, Int } from 'type-graphql';
import { MAX_PAGE_SIZE } from '../booking/pagination';

@ArgsType()
export class SalesHistoryArgs {
  @Field(() => ID, { nullable: true, description: 'Whose sales; defaults to the caller. Others need admin.' })
  @IsOptional()
  @MinLength(1)
  @MaxLength(200)
  userId?: string | null;

  @Field(() => Int, {
    nullable: true,
    defaultValue: 20,
    description: `How many sales to return (1-${MAX_PAGE_SIZE}).`,
  })
  @IsOptional()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  first?: number | null;

  @Field(() => String, { nullable: true, description: '`endCursor` of the previous page.' })
  @IsOptional()
  @MaxLength(500)
  after?: string | null;
}
