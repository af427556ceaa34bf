import { IsInt, IsOptional, Max, MaxLength, Min, MinLength } from 'class-validator';
import { MAX_ROWS, MAX_SEATS_PER_ROW } from '../booking/room-size';
import { DEFAULT_DURATION_MINUTES, MAX_DURATION_MINUTES } from '../seating/schedule';
import { Field, InputType, Int } from 'type-graphql';
import { DateTimeScalar } from '../scalars/date-time.scalar';

@InputType({ description: 'A new session; its seats are generated as rows x seatsPerRow.' })
export class CreateSessionInput {
  @Field({ description: 'Title of the movie (1-200 characters).' })
  @MinLength(1)
  @MaxLength(200)
  movie!: string;

  @Field({ description: 'Room where it is shown (1-100 characters).' })
  @MinLength(1)
  @MaxLength(100)
  room!: string;

  @Field(() => DateTimeScalar, { description: 'When it starts; must be in the future.' })
  startsAt!: Date;

  @Field(() => Int, {
    nullable: true,
    defaultValue: DEFAULT_DURATION_MINUTES,
    description: 'How long the screening lasts, in minutes (1-1440; null: 120).',
  })
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(MAX_DURATION_MINUTES)
  durationMinutes?: number | null;

  @Field(() => Int, { description: 'Price of one seat in cents (0-10,000,000).' })
  @IsInt()
  @Min(0)
  @Max(10_000_000)
  priceCents!: number;

  @Field(() => Int, { description: 'Number of rows (1-100), labelled A, B, ... Z, AA, AB, ...' })
  @IsInt()
  @Min(1)
  @Max(MAX_ROWS)
  rows!: number;

  @Field(() => Int, { description: 'Seats in each row (1-100), numbered from 1.' })
  @IsInt()
  @Min(1)
  @Max(MAX_SEATS_PER_ROW)
  seatsPerRow!: number;
}
