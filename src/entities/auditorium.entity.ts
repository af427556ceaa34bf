import { EntityRepositoryType, type Opt } from '@mikro-orm/core';
import { Check, Entity, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { uuidv7 } from '../infra/uuid';
import { AuditoriumRepository } from '../repositories/auditorium.repository';
import { type LayoutSymbol } from '../seating/auditorium-layout';

/**
 * A room whose seat layout is drawn as text rows and a legend. Immutable once created: its
 * seats are `parseAuditoriumLayout(legend, rows)`; `categories` and `capacity` are that parse's,
 * kept so reads need not parse.
 */
@ObjectType({ description: 'A room of the cinema, with its seat layout.' })
// The repository is named lazily: it imports this entity too.
@Entity({ tableName: 'auditorium', repository: () => AuditoriumRepository })
@Unique({ name: 'auditorium_name_unique', properties: ['name'] })
@Check({ name: 'auditorium_name_check', expression: 'char_length(name) >= 1 and char_length(name) <= 100' })
@Check({
  name: 'auditorium_cleaning_buffer_minutes_check',
  expression: 'cleaning_buffer_minutes >= 0 and cleaning_buffer_minutes <= 240',
})
@Check({ name: 'auditorium_capacity_check', expression: 'capacity >= 1' })
export class Auditorium {
  [EntityRepositoryType]?: AuditoriumRepository;

  @Field(() => ID, { description: 'UUID of the auditorium.' })
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @Field({ description: 'Its name, unique among auditoriums.' })
  @Property({ type: 'text' })
  name!: string;

  @Field(() => Int, { description: 'Minutes kept free after each session for cleaning.' })
  @Property({ type: 'integer' })
  cleaningBufferMinutes!: number;

  @Field(() => [String], {
    description: 'The price categories its seats use (e.g. STANDARD, PREMIUM), front row and left first.',
  })
  @Property({ type: 'json' })
  categories!: string[];

  @Field(() => Int, { description: 'Number of seats.' })
  @Property({ type: 'integer' })
  capacity!: number;

  @Field(() => [String], {
    description: 'The layout as created: one string per row, front row first, one character per place.',
  })
  @Property({ type: 'json' })
  rows!: string[];

  /** The legend the rows were drawn with: with `rows`, all the seat layout. Not shown: loaded on demand. */
  @Property({ type: 'json', lazy: true })
  legend!: LayoutSymbol[];

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
