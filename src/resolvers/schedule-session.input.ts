import { ArrayMaxSize, IsInt, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import { GapRule } from '../entities/enums';
import { MAX_CATEGORY_LENGTH, MAX_LEGEND_SYMBOLS } from '../seating/auditorium-layout';
import { MAX_DURATION_MINUTES } from '../seating/schedule';
import { DateTimeScalar } from '../scalars/date-time.scalar';

/** Highest price of one seat, in cents: ten seats still sum well inside a 32-bit integer. */
export const MAX_PRICE_CENTS = 10_000_000;

@InputType({ description: 'The price of the seats of one category.' })
export class CategoryPriceInput {
  @Field({ description: "One of the auditorium's categories." })
  @MinLength(1)
  @MaxLength(MAX_CATEGORY_LENGTH)
  category!: string;

  @Field(() => Int, { description: 'Price of one seat of that category, in cents (0-10,000,000).' })
  @IsInt()
  @Min(0)
  @Max(MAX_PRICE_CENTS)
  priceCents!: number;
}

@InputType({ description: 'A session to schedule in an auditorium.' })
export class ScheduleSessionInput {
  @Field(() => ID, { description: 'UUID of the auditorium.' })
  auditoriumId!: string;

  @Field({ description: 'Title of the movie (1-200 characters).' })
  @MinLength(1)
  @MaxLength(200)
  movie!: string;

  @Field(() => DateTimeScalar, { description: 'When it starts; must be in the future.' })
  startsAt!: Date;

  @Field(() => Int, { description: 'How long the screening lasts, in minutes (1-1440).' })
  @IsInt()
  @Min(1)
  @Max(MAX_DURATION_MINUTES)
  durationMinutes!: number;

  @Field(() => [CategoryPriceInput], {
    description: "One price per category of the auditorium's seats: exactly its categories.",
  })
  @ArrayMaxSize(MAX_LEGEND_SYMBOLS)
  @ValidateNested()
  prices!: CategoryPriceInput[];

  @Field(() => GapRule, {
    nullable: true,
    defaultValue: GapRule.NO_SINGLE_SEAT,
    description: 'Whether a selection may leave a single free seat alone (null: NO_SINGLE_SEAT).',
  })
  gapRule?: GapRule | null;
}
