import { IsOptional, Max, MaxLength, Min } from 'class-validator';
import { ArgsType, Field, ID, Int } from 'type-graphql';
import { MAX_PAGE_SIZE } from '../booking/pagination';
import { DateTimeScalar } from '../scalars/date-time.scalar';

@ArgsType()
export class SessionArgs {
  @Field(() => ID, { description: 'UUID of the session.' })
  id!: string;
}

@ArgsType()
export class SessionIdArgs {
  @Field(() => ID, { description: 'UUID of the session.' })
  sessionId!: string;
}

@ArgsType()
export class SessionsArgs {
  @Field(() => Int, {
    nullable: true,
    defaultValue: 20,
    description: `How many sessions to return (1-${MAX_PAGE_SIZE}).`,
  })
  @IsOptional()
  @Min(1)
  @Max(MAX_PAGE_SIZE)
  first?: number | null;

  @Field(() => String, { nullable: true, description: '`endCursor` of the previous page.' })
  @IsOptional()
  @MaxLength(500)
  after?: string | null;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'Only sessions starting at or after this time.',
  })
  from?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Only sessions starting before this time.' })
  to?: Date | null;
}
