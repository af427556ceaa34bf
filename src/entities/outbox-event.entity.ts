import { type Opt } from '@mikro-orm/core';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';
import { uuidv7 } from '../infra/uuid';

/**
 * A domain event written in the same transaction as the change it describes
 * (transactional outbox). The relay publishes unpublished rows in id order after commit; the
 * retention pruner deletes published rows once they are older than `OUTBOX_RETENTION_HOURS`.
 */
@Entity({ tableName: 'outbox_event' })
@Index({
  name: 'outbox_event_unpublished_index',
  expression:
    'create index "outbox_event_unpublished_index" on "outbox_event" ("id") where "published_at" is null',
})
@Index({
  name: 'outbox_event_published_at_index',
  expression:
    'create index "outbox_event_published_at_index" on "outbox_event" ("published_at") where "published_at" is not null',
})
export class OutboxEvent {
  @PrimaryKey({ type: 'uuid' })
  id: string & Opt = uuidv7();

  /** Routing key, e.g. `reservation.created` or `seat.status-changed`. */
  @Property({ type: 'text' })
  topic!: string;

  @Property({ type: 'jsonb' })
  payload!: object;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  createdAt: Date & Opt = new Date();

  @Property({ type: 'timestamptz', nullable: true })
  publishedAt: Date | null = null;

  /**
   * Until when (database clock) a relay has claimed this unpublished row while it waits for
   * the broker's confirms; other relays skip it until then, so a relay that died mid-batch
   * only delays its rows by the lease.
   */
  @Property({ type: 'timestamptz', nullable: true })
  claimedUntil: Date | null = null;

  /**
   * The W3C trace context (`traceparent`, `tracestate`) of the operation that wrote the row,
   * which the relay carries into the message's headers so consumers continue that trace; null
   * when tracing is off.
   */
  @Property({ type: 'jsonb', nullable: true })
  traceContext: Record<string, string> | null = null;
}
