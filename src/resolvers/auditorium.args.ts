import { ArgsType, Field, ID } from 'type-graphql';

@ArgsType()
export class AuditoriumArgs {
  @Field(() => ID, { description: 'UUID of the auditorium.' })
  id!: string;
}
