import { ArgsType, Field, ID, Int } from 'type-graphql';
import { PageArgs } from './page.args';
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
export class SessionsArgs extends PageArgs('sessions') {
  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'Only sessions starting at or after this time.',
  })
  from?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Only sessions starting before this time.' })
  to?: Date | null;
}

@ArgsType()
export class SeatStatusChangedArgs extends SessionIdArgs {
  @Field(() => Int, {
    nullable: true,
    description:
      "Resume: first every change with a higher mapVersion, in order, then live (no gap, no duplicate). Take it from the seat map's mapVersion. RESYNC_REQUIRED when those changes are no longer kept or it is above the current version.",
  })
  afterMapVersion?: number | null;
}
