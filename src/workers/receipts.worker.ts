import { type ConsumeMessage } from 'amqplib';
import { type MikroORM } from '@mikro-orm/postgresql';
import { decodeEvent, MalformedMessageError } from '../events/event-message';
import { type Logger } from '../infra/logger';

export const RECEIPTS_CONSUMER = 'receipts';

/**
 * Receipts consumer (the seam for e-mail later): on `reservation.confirmed`, one structured log
 * line. Idempotent through the inbox: the message id is recorded in the same transaction, and
 * a redelivered message finds it there and does nothing.
 */
export function createReceiptsHandler(orm: MikroORM, logger: Logger) {
  return async (message: ConsumeMessage): Promise<void> => {
    const { id, event } = decodeEvent(message);
    if (event.topic !== 'reservation.confirmed') {
      throw new MalformedMessageError(`expected reservation.confirmed, got ${event.topic}`);
    }
    const recorded = await orm.em.fork().transactional(async (tx) => {
      const rows: unknown[] = await tx.execute(
        `insert into consumed_message (consumer, message_id) values (?, ?)
         on conflict do nothing returning message_id`,
        [RECEIPTS_CONSUMER, id],
      );
      return rows.length === 1;
    });
    if (recorded) {
      const { reservationId, saleId, userId, sessionId, totalCents, seatIds } = event.payload;
      logger.info(
        {
          receipt: {
            messageId: id,
            reservationId,
            saleId,
            userId,
            sessionId,
            amountCents: totalCents,
            seatIds,
          },
        },
        'Receipt',
      );
    }
  };
}
