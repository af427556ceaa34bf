import { EntityRepositoryType, type Opt, type Ref } from '@mikro-orm/core';
import { Check, Entity, Enum, ManyToOne, PrimaryKey, Property, Unique } from '@mikro-orm/decorators/legacy';
import { uuidv7 } from '../infra/uuid';
import { SeatRepository } from '../repositories/seat.repository';
import { SeatKind, SeatStatus } from './enums';
import { Session } from './session.entity';

/**
 * A seat of one session. `status` is the stored status; a RESERVED seat whose
 * `holdExpiresAt` has passed counts as AVAILABLE (see `hold-rules.ts`); readers use `SeatReadModel`.
 */
// The repository is named lazily: it imports this entity too.
@Entity({ tableName: 'seat', repository: () => SeatRepository })
@Unique({ name: 'seat_session_position_unique', properties: ['session', 'rowIndex', 'number'] })
@Check({ name: 'seat_version_check', expression: 'version >= 1' })
@Check({ name: 'seat_number_check', expression: 'number >= 1' })
@Check({ name: 'seat_row_index_check', expression: 'row_index >= 0' })
@Check({ name: 'seat_x_check', expression: 'x >= 0' })
@Check({ name: 'seat_price_cents_check', expression: 'price_cents >= 0' })
@Check({
  name: 'seat_category_check',
  expression: 'char_length(category) >= 1 and char_length(category) <= 50',
})
@Check({
  name: 'seat_hold_check',
  expression: `(status = 'RESERVED') = (hold_expires_at is not null)`,
})
export class Seat {
  [EntityRepositoryType]?: SeatRepository;

  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  @ManyToOne(() => Session, { ref: true })
  session!: Ref<Session>;

  /** 0-based row position, for ordering: row labels do not sort as strings (Z < AA). */
  @Property({ type: 'integer' })
  rowIndex!: number;

  @Property({ type: 'text' })
  row!: string;

  @Property({ type: 'integer' })
  number!: number;

  /** Column of the layout, gaps included (0-based), for drawing; the row is `rowIndex`. */
  @Property({ type: 'integer' })
  x!: number;

  /** Price category; the session's price for it was copied into `priceCents` at creation. */
  @Property({ type: 'text' })
  category!: string;

  @Enum({ items: () => SeatKind, type: 'text' })
  kind!: SeatKind;

  @Property({ type: 'integer' })
  priceCents!: number;

  @Enum({ items: () => SeatStatus, type: 'text' })
  status: SeatStatus & Opt = SeatStatus.AVAILABLE;

  @Property({ type: 'integer' })
  version: number & Opt = 1;

  /** End of the current hold; set exactly while `status` is RESERVED. */
  @Property({ type: 'timestamptz', nullable: true })
  holdExpiresAt: Date | null = null;
}
