import { Field, ID, Int, ObjectType } from 'type-graphql';
import { seatLabel } from '../booking/seat-label';
import { type SeatFields } from '../booking/seat.repository';
import { SeatStatus } from '../entities/enums';

/**
 * The GraphQL `Seat`: a read model, not the entity. Seat maps resolve it for hundreds of seats
 * per request, so it is a plain object with every field precomputed (label, the status a
 * reader sees), built without the ORM.
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

  /** Position of the row, for ordering (row labels do not sort as strings). */
  rowIndex!: number;

  /**
   * The seat as a reader sees it at `now`: a RESERVED seat whose hold has ended is AVAILABLE
   * (the hold is over even before anything marks it).
   */
  static of(fields: SeatFields, now: number = Date.now()): SeatView {
    const view = new SeatView();
    view.id = fields.id;
    view.sessionId = fields.sessionId;
    view.rowIndex = fields.rowIndex;
    view.row = fields.row;
    view.number = fields.number;
    view.version = fields.version;
    view.label = seatLabel(fields.row, fields.number);
    view.status =
      fields.status === SeatStatus.RESERVED &&
      fields.holdExpiresAt !== null &&
      fields.holdExpiresAt.getTime() <= now
        ? SeatStatus.AVAILABLE
        : fields.status;
    return view;
  }
}
