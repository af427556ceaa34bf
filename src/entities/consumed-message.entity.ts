import { Entity, type Opt, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * Inbox of idempotent consumers: a message id is recorded by a consumer once, in the same
 * transaction as its effect, so a redelivered message (delivery is at-least-once) is skipped.
 */
@Entity({ tableName: 'consumed_message' })
export class ConsumedMessage {
  @PrimaryKey({ type: 'text' })
  consumer!: string;

  @PrimaryKey({ type: 'text' })
  messageId!: string;

  @Property({ type: 'timestamptz', defaultRaw: 'now()' })
  consumedAt: Date & Opt = new Date();
}
