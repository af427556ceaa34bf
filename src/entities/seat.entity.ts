import {
  Check,
  Entity,
  Enum,
  ManyToOne,
  type Opt,
  OptionalProps,
  PrimaryKey,
  Property,
  type Ref,
  Unique,
} from '@mikro-orm/core';
import { Field, ID, Int, ObjectType } from 'type-graphql';
import { seatLabel } from '../booking/seat-label';
import { uuidv7 } from '../infra/uuid';
import { SeatStatus } from './enums';
import { Session } from './session.entity';

/**
 * A seat of one session. `status` is the stored status; a RESERVED seat whose
 * `holdExpiresAt` has passed counts as AVAILABLE (the GraphQL `status`).
 */
@ObjectType({ description: 'A seat of one session.' })
@Entity({ tableName: 'seat' })
@Unique({ name: 'seat_session_position_unique', properties: ['session', 'rowIndex', 'number'] })
@Check({ name: 'seat_version_check', expression: 'version >= 1' })
@Check({ name: 'seat_number_check', expression: 'number >= 1' })
@Check({ name: 'seat_row_index_check', expression: 'row_index >= 0' })
@Check({
  name: 'seat_hold_check',
  expression: `(status = 'RESERVED') = (hold_expires_at is not null)`,
})
export class Seat {
  // GraphQL-only getters, never written.
  [OptionalProps]?: 'sessionIdentifier' | 'seatLabel' | 'currentStatus';

  @Field(() => ID, { description: 'UUID of the seat.' })
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @ManyToOne(() => Session, { ref: true })
  session!: Ref<Session>;

  /** 0-based row position, for ordering: row labels do not sort as strings (Z < AA). */
  @Property({ type: 'integer' })
  rowIndex!: number;

  @Field({ description: 'Row letters: A..Z, then AA, AB, ...' })
  @Property({ type: 'text' })
  row!: string;

  @Field(() => Int, { description: 'Seat number within the row, from 1.' })
  @Property({ type: 'integer' })
  number!: number;

  @Enum({ items: () => SeatStatus, type: 'text' })
  status: SeatStatus & Opt = SeatStatus.AVAILABLE;

  @Field(() => Int, { description: 'Grows by one on every status change of this seat.' })
  @Property({ type: 'integer' })
  version: number & Opt = 1;

  /** End of the current hold; set exactly while `status` is RESERVED. */
  @Property({ type: 'timestamptz', nullable: true })
  holdExpiresAt: Date | null = null;

  // The GraphQL-only fields below are getters rather than field resolvers: a seat map resolves
  // them for hundreds of seats per request, and a plain property read costs next to nothing.

  @Field(() => ID, { name: 'sessionId', description: 'UUID of the session the seat belongs to.' })
  get sessionIdentifier(): string {
    return this.session.id;
  }

  @Field({ name: 'label', description: 'Row letters and number, e.g. "C7".' })
  get seatLabel(): string {
    return seatLabel(this.row, this.number);
  }

  @Field(() => SeatStatus, {
    name: 'status',
    description: 'Current status; a hold that has ended reads as AVAILABLE.',
  })
  get currentStatus(): SeatStatus {
    return this.status === SeatStatus.RESERVED &&
      this.holdExpiresAt !== null &&
      this.holdExpiresAt.getTime() <= Date.now()
      ? SeatStatus.AVAILABLE
      : this.status;
  }
}
