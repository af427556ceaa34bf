import { ArgsType, Field, ID } from 'type-graphql';
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
