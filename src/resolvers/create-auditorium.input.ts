import { Field, InputType, Int } from 'type-graphql';
import { DEFAULT_CLEANING_BUFFER_MINUTES } from '../booking/create-auditorium';
import { SeatKind } from '../entities/enums';

@InputType({ description: 'What one character of a layout stands for.' })
export class LayoutSymbolInput {
  @Field({ description: 'Exactly one character; "." and " " are reserved for "no seat".' })
  symbol!: string;

  @Field({ description: 'Price category of its seats, e.g. STANDARD or PREMIUM (1-50 characters).' })
  category!: string;

  @Field(() => SeatKind, {
    nullable: true,
    defaultValue: SeatKind.STANDARD,
    description: 'Kind of its seats (null: STANDARD).',
  })
  kind?: SeatKind | null;
}

@InputType({ description: 'A new auditorium: its seat layout drawn as rows of legend symbols.' })
export class CreateAuditoriumInput {
  @Field({ description: 'Its name, unique among auditoriums (1-100 characters, trimmed).' })
  name!: string;

  @Field(() => Int, {
    nullable: true,
    defaultValue: DEFAULT_CLEANING_BUFFER_MINUTES,
    description: 'Minutes kept free after each session for cleaning (0-240; null: 15).',
  })
  cleaningBufferMinutes?: number | null;

  @Field(() => [LayoutSymbolInput], {
    description: 'The symbols the rows use (1-100), each standing for seats of one category and kind.',
  })
  legend!: LayoutSymbolInput[];

  @Field(() => [String], {
    description:
      'The layout, front row first: 1-100 rows of 1-100 characters, each a legend symbol (a seat) or "." or " " (no seat). Rows are labelled A, B, ...; the seats of a row are numbered 1, 2, ... from the left, gaps taking no number.',
  })
  rows!: string[];
}
