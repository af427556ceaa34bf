import { PrimaryKeyProp } from '@mikro-orm/core';
import { Check, Entity, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * The change log of seat maps: each committed seat change of a session, under the session's
 * map version it made (1, 2, 3, … with no gap), as its `seat.status-changed` event carried it.
 * Subscribers resume from it (`afterMapVersion`) and each API process fills gaps in its live
 * stream from it. Written only by SQL (`SeatChangeLog`); pruned by the retention pruner after
 * `SEAT_CHANGE_RETENTION_HOURS`, keeping at least the last 10,000 per session
 * (`SEAT_CHANGES_KEPT_PER_SESSION`), oldest versions first so that what is kept has no gap.
 */
@Entity({ tableName: 'seat_change' })
@Check({ name: 'seat_change_map_version_check', expression: 'map_version >= 1' })
export class SeatChange {
  [PrimaryKeyProp]?: ['sessionId', 'mapVersion'];

  @PrimaryKey({ type: 'uuid' })
  sessionId!: string;

  @PrimaryKey({ type: 'integer' })
  mapVersion!: number;

  /** The `seat.status-changed` payload, `mapVersion` included. */
  @Property({ type: 'jsonb' })
  payload!: object;

  @Property({ type: 'timestamptz' })
  changedAt!: Date;
}
