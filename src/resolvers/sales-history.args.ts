import { IsOptional, MaxLength, MinLength } from 'class-validator';
import { ArgsType, Field, ID } from 'type-graphql';
import { PageArgs } from './page.args';

/** Whose sales: listed before the page arguments in the schema. */
@ArgsType()
class SalesOwnerArgs {
  @Field(() => ID, { nullable: true, description: 'Whose sales; defaults to the caller. Others need admin.' })
  @IsOptional()
  @MinLength(1)
  @MaxLength(200)
  userId?: string | null;
}

@ArgsType()
export class SalesHistoryArgs extends PageArgs('sales', SalesOwnerArgs) {}
