import { type ConsumeMessage } from 'amqplib';
import { type MikroORM } from '@mikro-orm/postgresql';
import { decodeEvent, MalformedMessageError } from '../events/event-message';
import { type Logger } from '../infra/logger';
import { LoggingReceiptSender, type ReceiptSender } from './receipt-sender';

export const RECEIPTS_CONSUMER = 'receipts';

/**
 * Receipts consumer: on `reservation.confirmed`, sends one receipt through `sender` (by
 * default {@link LoggingReceiptSender}: a log line). Effect first, inbox row after: the message
 * id is looked up in the inbox (`consumed_message`), the receipt is sent, then the id is
 * recorded. A failure or crash before the record leaves the message unacknowledged or
 * retried, so the receipt is sent again rather than never (at-least-once; the sender is
 * idempotent by message id); once recorded, a redelivered message finds its id and does nothing.
 *
 * No database connection or transaction is held while the sender works: a slow mail provider
 * must not pin pooled connections the API and the expiry consumer need.
 */
export function createReceiptsHandler(
  orm: MikroORM,
  logger: Logger,
  sender: ReceiptSender = new LoggingReceiptSender(logger),
) {
  return async (message: ConsumeMessage): Promise<void> => {
    const { id, event } = decodeEvent(message);
    if (event.topic !== 'reservation.confirmed') {
      throw new MalformedMessageError(`expected reservation.confirmed, got ${event.topic}`);
    }
    const em = orm.em.fork();
    const seen: unknown[] = await em.execute(
      'select 1 from consumed_message where consumer = ? and message_id = ?',
      [RECEIPTS_CONSUMER, id],
    );
    if (seen.length > 0) {
      return;
    }
    const { reservationId, saleId, userId, sessionId, totalCents, seatIds } = event.payload;
    await sender.send({
      messageId: id,
      reservationId,
      saleId,
      userId,
      sessionId,
      amountCents: totalCents,
      seatIds,
    });
    await em.execute(
      'insert into consumed_message (consumer, message_id) values (?, ?) on conflict do nothing',
      [RECEIPTS_CONSUMER, id],
    );
  };
}
