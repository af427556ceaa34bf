import { Field, ID, Int, ObjectType } from 'type-graphql';
import { type SeatSnapshot, type SeatStatusChangedEvent } from '../booking/booking-events';
import { SeatKind } from '../entities/enums';
import { rowIndex } from '../seating/seat-label';
import { DateTimeScalar } from '../scalars/date-time.scalar';
import { SeatView } from './seat.type';

/**
 * Events written before seats had layout facts (still in the outbox or a queue across the
 * upgrade) were all of sessions with one STANDARD category, whose seats stand at `number - 1`.
 * Their price was not carried: it reads as 0 for those few in-flight events.
 */
function legacySnapshotFacts(
  snapshot: Pick<SeatSnapshot, 'number'>,
): Pick<SeatSnapshot, 'x' | 'category' | 'kind' | 'priceCents'> {
  return { x: snapshot.number - 1, category: 'STANDARD', kind: SeatKind.STANDARD, priceCents: 0 };
}

// The view built for each event, for as long as the event object is alive.
const views = new WeakMap<SeatStatusChangedEvent, SeatStatusChange>();

@ObjectType({ description: 'Seats of one session whose status changed together, as of that change.' })
export class SeatStatusChange {
  @Field(() => ID, { description: 'The session whose seats changed.' })
  sessionId!: string;

  @Field(() => Int, {
    description:
      "The session's map version this change made: consecutive for one session, so a gap shows a missed change.",
  })
  mapVersion!: number;

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
    // Events written before map versions existed (in flight across the upgrade) read as 0.
    change.mapVersion = event.mapVersion ?? 0;
    change.sessionId = event.sessionId;
    change.reservationId = event.reservationId;
    change.changedAt = new Date(event.changedAt);
    change.seats = event.seats.map((snapshot) =>
      SeatView.of({ ...legacySnapshotFacts(snapshot), ...snapshot, rowIndex: rowIndex(snapshot.row) }),
    );
    views.set(event, change);
    return change;
  }
}
