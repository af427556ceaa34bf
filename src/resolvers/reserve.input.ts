import {
  ArrayMaxSize,
  ArrayMinSize,
  IsInt,
  IsOptional,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';
import { Field, ID, InputType, Int } from 'type-graphql';
import { MAX_CATEGORY_LENGTH } from '../seating/auditorium-layout';
import { MAX_SEATS_PER_RESERVATION } from '../booking/booking-limits';

/** What every way of holding seats asks: the session, and a retry key. */
@InputType()
abstract class HoldInput {
  @Field(() => ID, { description: 'UUID of the session.' })
  sessionId!: string;

  @Field(() => String, {
    nullable: true,
    description:
      'Retry key (1-200 visible ASCII characters): the same key from the same user returns the first reservation.',
  })
  @IsOptional()
  @MinLength(1)
  @MaxLength(200)
  @Matches(/^[\x21-\x7e]+$/, { message: 'idempotencyKey must be visible ASCII characters' })
  idempotencyKey?: string | null;
}

@InputType({ description: 'Seats to hold, all or none.' })
export class ReserveInput extends HoldInput {
  @Field(() => [ID], { description: `1 to ${MAX_SEATS_PER_RESERVATION} distinct seats of that session.` })
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SEATS_PER_RESERVATION)
  seatIds!: string[];
}

@InputType({ description: 'How many seats side by side to hold, chosen by the server: the best free block.' })
export class BestAvailableInput extends HoldInput {
  @Field(() => Int, { description: `Seats side by side in one row, 1 to ${MAX_SEATS_PER_RESERVATION}.` })
  @IsInt()
  @Min(1)
  @Max(MAX_SEATS_PER_RESERVATION)
  quantity!: number;

  @Field(() => String, { nullable: true, description: 'Only seats of this price category (any when null).' })
  @IsOptional()
  @MaxLength(MAX_CATEGORY_LENGTH)
  category?: string | null;

  @Field(() => Boolean, {
    nullable: true,
    defaultValue: false,
    description: 'One WHEELCHAIR space and quantity - 1 seats beside it (companion or standard).',
  })
  accessible?: boolean | null;
}
