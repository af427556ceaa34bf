import { ArgsType, Field, ID } from 'type-graphql';
import { DateTimeScalar } from '../scalars/date-time.scalar';

@ArgsType()
export class AuditoriumArgs {
  @Field(() => ID, { description: 'UUID of the auditorium.' })
  id!: string;
}

@ArgsType()
export class AuditoriumSessionsArgs {
  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'Only sessions starting at or after this time.',
  })
  from?: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'Only sessions starting before this time.' })
  to?: Date | null;
}
