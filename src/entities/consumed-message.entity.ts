import { type Opt } from '@mikro-orm/core';
import { Entity, Index, PrimaryKey, Property } from '@mikro-orm/decorators/legacy';

/**
 * Inbox of idempotent consumers: a consumer records a message id with its effect or after it,
 * never before (a crash in between repeats the effect rather than losing it), so a redelivered
 * message (delivery is at-least-once) is skipped. Rows older than `INBOX_RETENTION_HOURS` are
 * deleted by the retention pruner.
 */
@Entity({ tableName: 'consumed_message' })
export class ConsumedMessage {
  @PrimaryKey({ type: 'text' })
  consumer!: string;

  @PrimaryKey({ type: 'text' })
  messageId!: string;

  // Indexed so that pruning finds old rows without scanning the table.
  @Index({ name: 'consumed_message_consumed_at_index' })
  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  consumedAt: Date & Opt = new Date();
}
