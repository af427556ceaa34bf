import { EntityRepositoryType, type Opt } from '@mikro-orm/core';
import { Check, Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { uuidv7 } from '../infra/uuid';
import { SessionRepository } from '../repositories/session.repository';
import { DateTimeScalar } from '../scalars/date-time.scalar';

/** One screening of a movie in a room. Immutable once created. */
@ObjectType({ description: 'One screening of a movie in a room, with its seat map.' })
// The repository is named lazily: it imports this entity too.
@Entity({ tableName: 'session', repository: () => SessionRepository })
@Index({ name: 'session_starts_at_id_index', properties: ['startsAt', 'id'] })
@Check({ name: 'session_price_cents_check', expression: 'price_cents >= 0' })
@Check({ name: 'session_rows_check', expression: 'rows >= 1 and rows <= 100' })
@Check({ name: 'session_seats_per_row_check', expression: 'seats_per_row >= 1 and seats_per_row <= 100' })
@Check({ name: 'session_movie_check', expression: 'char_length(movie) >= 1 and char_length(movie) <= 200' })
@Check({ name: 'session_room_check', expression: 'char_length(room) >= 1 and char_length(room) <= 100' })
export class Session {
  [EntityRepositoryType]?: SessionRepository;

  @Field(() => ID, { description: 'UUID of the session.' })
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @Field({ description: 'Title of the movie shown.' })
  @Property({ type: 'text' })
  movie!: string;

  @Field({ description: 'Room (auditorium) where it is shown.' })
  @Property({ type: 'text' })
  room!: string;

  @Field(() => DateTimeScalar, { description: 'When the screening starts; reservations close then.' })
  @Property({ type: 'timestamptz' })
  startsAt!: Date;

  @Field(() => Int, { description: 'Price of one seat, in cents.' })
  @Property({ type: 'integer' })
  priceCents!: number;

  @Field(() => Int, { description: 'Number of seat rows (A, B, ...).' })
  @Property({ type: 'integer' })
  rows!: number;

  @Field(() => Int, { description: 'Number of seats in each row.' })
  @Property({ type: 'integer' })
  seatsPerRow!: number;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
