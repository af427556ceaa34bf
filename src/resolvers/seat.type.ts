import { Field, ID, Int, ObjectType } from 'type-graphql';
import { seatLabel } from '../seating/seat-label';
import { type SeatReadModel } from '../repositories/seat-read-model';
import { SeatKind, SeatStatus } from '../entities/enums';

/**
 * The GraphQL `Seat`: the seat read model ({@link SeatReadModel}) plus its label, not the
 * entity. Seat maps resolve it for hundreds of seats per request, so it is a plain object with
 * every field precomputed, built without the ORM.
 */
@ObjectType('Seat', { description: 'A seat of one session.' })
export class SeatView {
  @Field(() => ID, { description: 'UUID of the seat.' })
  id!: string;

  @Field({ description: 'Row letters: A..Z, then AA, AB, ...' })
  row!: string;

  @Field(() => Int, { description: 'Seat number within the row, from 1.' })
  number!: number;

  @Field(() => Int, { description: 'Grows by one on every status change of this seat.' })
  version!: number;

  @Field(() => ID, { description: 'UUID of the session the seat belongs to.' })
  sessionId!: string;

  @Field({ description: 'Row letters and number, e.g. "C7".' })
  label!: string;

  @Field(() => SeatStatus, { description: 'Current status; a hold that has ended reads as AVAILABLE.' })
  status!: SeatStatus;

  @Field({ description: "Price category, e.g. STANDARD or PREMIUM (see the session's prices)." })
  category!: string;

  @Field(() => SeatKind, {
    description: 'What the seat is for: standard, wheelchair space or companion seat.',
  })
  kind!: SeatKind;

  @Field(() => Int, { description: 'Price of this seat in this session, in cents.' })
  priceCents!: number;

  @Field(() => Int, { description: 'Column in the layout, gaps included (0-based), for drawing.' })
  x!: number;

  @Field(() => Int, { description: 'Row index, front row first (0-based), for drawing.' })
  get y(): number {
    return this.rowIndex;
  }

  /** Position of the row, for ordering (row labels do not sort as strings). */
  rowIndex!: number;

  /** The GraphQL seat of a read model (whose status is already the status as read). */
  static of(seat: Omit<SeatReadModel, 'holdEndsAt'>): SeatView {
    const view = new SeatView();
    view.id = seat.id;
    view.sessionId = seat.sessionId;
    view.rowIndex = seat.rowIndex;
    view.row = seat.row;
    view.number = seat.number;
    view.version = seat.version;
    view.label = seatLabel(seat.row, seat.number);
    view.status = seat.status;
    view.x = seat.x;
    view.category = seat.category;
    view.kind = seat.kind;
    view.priceCents = seat.priceCents;
    return view;
  }
}
