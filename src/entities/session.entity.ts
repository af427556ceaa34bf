import { EntityRepositoryType, type Opt, type Ref } from '@mikro-orm/core';
import { Check, Entity, Enum, Index, ManyToOne, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { uuidv7 } from '../infra/uuid';
import { SessionRepository } from '../repositories/session.repository';
import { DateTimeScalar } from '../scalars/date-time.scalar';
import { Auditorium } from './auditorium.entity';
import { GapRule } from './enums';

/** The price of the seats of one category in one session. */
@ObjectType({ description: 'The price of the seats of one category in one session.' })
export class CategoryPrice {
  @Field({ description: "A price category of the session's seats, e.g. STANDARD or PREMIUM." })
  category!: string;

  @Field(() => Int, { description: 'Price of one seat of that category, in cents.' })
  priceCents!: number;
}

/**
 * The schedule rule (seed 004): in one auditorium, a session occupies
 * `[startsAt, busyUntil)` — its screening plus the auditorium's cleaning buffer — and no two
 * of those spans overlap. PostgreSQL enforces it (concurrent schedulers cannot both win);
 * sessions made by `createSession` have no auditorium and no schedule.
 */
export const SESSION_SCHEDULE_CONSTRAINT = 'session_auditorium_schedule_exclusion';

/** One screening of a movie in a room. Immutable once created. */
@ObjectType({ description: 'One screening of a movie in a room, with its seat map.' })
// The repository is named lazily: it imports this entity too.
@Entity({ tableName: 'session', repository: () => SessionRepository })
@Index({ name: 'session_starts_at_id_index', properties: ['startsAt', 'id'] })
// A full constraint body (MikroORM emits `exclude ...` checks verbatim); btree_gist lets the
// gist index compare the auditorium id with `=`.
@Check({
  name: SESSION_SCHEDULE_CONSTRAINT,
  expression: `exclude using gist (auditorium_id with =, tstzrange(starts_at, busy_until, '[)') with &&) where (auditorium_id is not null)`,
})
@Check({ name: 'session_price_cents_check', expression: 'price_cents >= 0' })
@Check({ name: 'session_rows_check', expression: 'rows >= 1 and rows <= 100' })
@Check({ name: 'session_seats_per_row_check', expression: 'seats_per_row >= 1 and seats_per_row <= 100' })
@Check({ name: 'session_movie_check', expression: 'char_length(movie) >= 1 and char_length(movie) <= 200' })
@Check({ name: 'session_room_check', expression: 'char_length(room) >= 1 and char_length(room) <= 100' })
@Check({ name: 'session_map_version_check', expression: 'map_version >= 0' })
@Check({
  name: 'session_duration_minutes_check',
  expression: 'duration_minutes >= 1 and duration_minutes <= 1440',
})
@Check({
  name: 'session_span_check',
  expression: 'ends_at = starts_at + make_interval(mins => duration_minutes) and busy_until >= ends_at',
})
export class Session {
  [EntityRepositoryType]?: SessionRepository;

  @Field(() => ID, { description: 'UUID of the session.' })
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @Field({ description: 'Title of the movie shown.' })
  @Property({ type: 'text' })
  movie!: string;

  @Field({ description: "Room where it is shown: its auditorium's name for a scheduled session." })
  @Property({ type: 'text' })
  room!: string;

  @Field(() => DateTimeScalar, { description: 'When the screening starts; reservations close then.' })
  @Property({ type: 'timestamptz' })
  startsAt!: Date;

  @Property({ type: 'integer' })
  durationMinutes!: number;

  @Field(() => DateTimeScalar, { description: 'When the screening ends: startsAt + its duration.' })
  @Property({ type: 'timestamptz' })
  endsAt!: Date;

  /** `endsAt` plus the auditorium's cleaning buffer: the end of the span the room is busy. */
  @Property({ type: 'timestamptz' })
  busyUntil!: Date;

  /** Null for a session made by `createSession` (a one-off room, off the schedule). */
  @ManyToOne(() => Auditorium, { ref: true, nullable: true, deleteRule: 'restrict' })
  auditorium: Ref<Auditorium> | null = null;

  @Field(() => Int, { description: "The cheapest category's price of one seat, in cents." })
  @Property({ type: 'integer' })
  priceCents!: number;

  @Field(() => [CategoryPrice], {
    description: 'The price of each category of its seats, in the order the categories first appear.',
  })
  @Property({ type: 'json' })
  prices!: CategoryPrice[];

  @Field(() => GapRule, { description: 'Whether a selection may leave a single free seat alone.' })
  @Enum({ items: () => GapRule, type: 'text' })
  gapRule!: GapRule;

  @Field(() => Int, { description: 'Number of seat rows (A, B, ...).' })
  @Property({ type: 'integer' })
  rows!: number;

  @Field(() => Int, { description: 'Number of seats in the longest row.' })
  @Property({ type: 'integer' })
  seatsPerRow!: number;

  /**
   * Grows by exactly one with every committed seat change of this session (see `SeatChange`).
   * Resolved with the seats it goes with, not from this property (see the session resolver).
   */
  @Property({ type: 'integer', default: 0 })
  mapVersion: number & Opt = 0;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();
}
