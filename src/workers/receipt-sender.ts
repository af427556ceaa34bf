import { type Logger } from '../infra/logger';

/** What a customer is told once a reservation is paid. */
export interface Receipt {
  /** Id of the `reservation.confirmed` message: the same for every redelivery of it. */
  readonly messageId: string;
  readonly reservationId: string;
  readonly saleId?: string;
  readonly userId: string;
  readonly sessionId: string;
  readonly amountCents: number;
  readonly seatIds: readonly string[];
}

/**
 * Delivers receipts (a log line today, e-mail later). Called at least once per confirmed
 * reservation: a crash after `send` but before the receipts consumer recorded the message
 * calls it again with the same receipt, so an implementation must be idempotent by
 * {@link Receipt.messageId} (e.g. pass it as the mail provider's idempotency key). A throw
 * means "not sent": the message is retried later.
 */
export interface ReceiptSender {
  send(receipt: Receipt): Promise<void>;
}

/** The default {@link ReceiptSender}: one structured `Receipt` log line per receipt. */
export class LoggingReceiptSender implements ReceiptSender {
  constructor(private readonly logger: Logger) {}

  async send(receipt: Receipt): Promise<void> {
    this.logger.info({ receipt }, 'Receipt');
  }
}
