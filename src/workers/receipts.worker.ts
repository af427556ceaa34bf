import { type ConsumeMessage } from 'amqplib';
import { type MikroORM } from '@mikro-orm/postgresql';
import { type BookingEvent } from '../booking/booking-events';
import { decodeEvent, MalformedMessageError } from '../events/event-message';
import { type Logger } from '../infra/logger';
import { LoggingReceiptSender, type Receipt, type ReceiptSender } from './receipt-sender';

export const RECEIPTS_CONSUMER = 'receipts';

/**
 * Receipts consumer: on `reservation.confirmed` (a payment receipt) and `sale.refunded` (a refund
 * receipt, with the amount given back), sends one receipt through `sender` (by default
 * {@link LoggingReceiptSender}: a log line). Effect first, inbox row after: the message
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
    const receipt = receiptOf(id, event);
    const em = orm.em.fork();
    const seen: unknown[] = await em.execute(
      'select 1 from consumed_message where consumer = ? and message_id = ?',
      [RECEIPTS_CONSUMER, id],
    );
    if (seen.length > 0) {
      return;
    }
    await sender.send(receipt);
    await em.execute(
      'insert into consumed_message (consumer, message_id) values (?, ?) on conflict do nothing',
      [RECEIPTS_CONSUMER, id],
    );
  };
}

/** The receipt for message `messageId`, or MalformedMessageError for a topic that has none. */
function receiptOf(messageId: string, event: BookingEvent): Receipt {
  if (event.topic === 'reservation.confirmed') {
    const { reservationId, saleId, userId, sessionId, totalCents, seatIds } = event.payload;
    return {
      messageId,
      kind: 'payment',
      reservationId,
      saleId,
      userId,
      sessionId,
      amountCents: totalCents,
      seatIds,
    };
  }
  if (event.topic === 'sale.refunded') {
    const { refundId, reservationId, saleId, userId, sessionId, amountCents, seatIds } = event.payload;
    const { percent, saleAmountCents, reason } = event.payload;
    return {
      messageId,
      kind: 'refund',
      reservationId,
      saleId,
      userId,
      sessionId,
      amountCents,
      seatIds,
      refund: { refundId, percent, saleAmountCents, reason },
    };
  }
  throw new MalformedMessageError(`expected reservation.confirmed or sale.refunded, got ${event.topic}`);
}
