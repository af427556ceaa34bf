import { type Logger } from '../infra/logger';

/** What a customer is told once a reservation is paid, or once its sale is refunded. */
export interface Receipt {
  /** Id of the `reservation.confirmed` or `sale.refunded` message: the same for every redelivery of it. */
  readonly messageId: string;
  /** `payment` (a reservation paid) or `refund` (its sale refunded). */
  readonly kind: 'payment' | 'refund';
  readonly reservationId: string;
  readonly saleId?: string;
  /** The customer: who paid (also for a refund an admin asked for). */
  readonly userId: string;
  readonly sessionId: string;
  /** Paid, or given back (a refund). */
  readonly amountCents: number;
  readonly seatIds: readonly string[];
  /** A refund's details: its id, the share given back, what the sale was paid, and why. */
  readonly refund?: {
    readonly refundId: string;
    readonly percent: number;
    readonly saleAmountCents: number;
    readonly reason: string | null;
  };
}

/**
 * Delivers receipts (a log line today, e-mail later). Called at least once per confirmed
 * reservation and per refund: a crash after `send` but before the receipts consumer recorded the message
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
