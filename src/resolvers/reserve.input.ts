import { ArrayMaxSize, ArrayMinSize, IsOptional, Matches, MaxLength, MinLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { MAX_SEATS_PER_RESERVATION } from '../booking/booking-limits';

@InputType({ description: 'Seats to hold, all or none.' })
export class ReserveInput {
  @Field(() => ID, { description: 'UUID of the session.' })
  sessionId!: string;

  @Field(() => [ID], { description: `1 to ${MAX_SEATS_PER_RESERVATION} distinct seats of that session.` })
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_SEATS_PER_RESERVATION)
  seatIds!: string[];

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
