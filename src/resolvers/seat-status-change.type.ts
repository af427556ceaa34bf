import { Field, ID, ObjectType } from 'type-graphql';
import { type SeatStatusChangedEvent } from '../booking/booking-events';
import { rowIndex } from '../seating/seat-label';
import { DateTimeScalar } from '../scalars/date-time.scalar';
import { SeatView } from './seat.type';

// The view built for each event, for as long as the event object is alive.
const views = new WeakMap<SeatStatusChangedEvent, SeatStatusChange>();

@ObjectType({ description: 'Seats of one session whose status changed together, as of that change.' })
export class SeatStatusChange {
  @Field(() => ID, { description: 'The session whose seats changed.' })
  sessionId!: string;

  @Field(() => ID, { nullable: true, description: 'The reservation that caused the change, if any.' })
  reservationId!: string | null;

  @Field(() => [SeatView], {
    description: 'The seats that changed, with their new status and version (a snapshot, not a re-read).',
  })
  seats!: SeatView[];

  @Field(() => DateTimeScalar, { description: 'When the change was committed (database clock).' })
  changedAt!: Date;

  /**
   * The GraphQL view of a committed event: seats rebuilt from their snapshots, unmanaged.
   * Built once per event: every subscriber of the session receives the same event object,
   * so they share this view.
   */
  static fromEvent(event: SeatStatusChangedEvent): SeatStatusChange {
    const built = views.get(event);
    if (built) {
      return built;
    }
    const change = new SeatStatusChange();
    change.sessionId = event.sessionId;
    change.reservationId = event.reservationId;
    change.changedAt = new Date(event.changedAt);
    change.seats = event.seats.map((snapshot) =>
      SeatView.of({ ...snapshot, rowIndex: rowIndex(snapshot.row) }),
    );
    views.set(event, change);
    return change;
  }
}
