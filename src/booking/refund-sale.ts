import { type EntityManager } from '@mikro-orm/postgresql';
import { SaleStatus } from '../entities/enums';
import { MAX_REFUND_REASON_LENGTH, Refund } from '../entities/refund.entity';
import { type Sale } from '../entities/sale.entity';
import { badUserInput, forbidden, notFound } from '../errors/domain-error';
import { type RequestDeadline } from '../infra/request-deadline';
import { repositoriesOf } from '../repositories';
import { isPrintable } from '../infra/text';
import { type BookingDependencies } from './booking-dependencies';
import { refundNotAllowed } from './booking-errors';
import { saleRefunded, seatStatusChanged } from './booking-events';
import { type Caller } from './caller';
import { refundAmountCents, refundPolicyPercent } from './refund-policy';

/** What `refundSale` is asked; only the GraphQL types are checked by the arguments. */
export interface RefundSaleCommand {
  /** Already parsed (`parseId`). */
  readonly saleId: string;
  /** Why; trimmed. Required when an admin chooses a percent other than the policy's. */
  readonly reason?: string | null;
  /** Admins only: 0-100; absent means the policy's percent at this moment. */
  readonly percent?: number | null;
}

/** The reason as stored: trimmed, or null when none was given. */
function checkedReason(reason: string | null | undefined): string | null {
  if (reason === null || reason === undefined) {
    return null;
  }
  const trimmed = reason.trim();
  if (!trimmed || Array.from(trimmed).length > MAX_REFUND_REASON_LENGTH || !isPrintable(trimmed)) {
    throw badUserInput(
      'reason',
      `reason must be 1-${MAX_REFUND_REASON_LENGTH} visible characters on one line, not blank.`,
    );
  }
  return trimmed;
}

/**
 * Refunds a sale, by the cancellation policy measured from its session's `startsAt` by the
 * database clock (see {@link refundPolicyPercent}): 100 % while more than 24 h remain, 50 %
 * while more than 12 h remain, else 0 %.
 *
 * - The owner may refund while the policy gives more than 0 %, at the policy's percent, and
 *   may not choose a percent.
 * - An admin may refund any sale at any time, at the policy's percent by default or at any
 *   percent 0-100 (a `reason` is then required if it differs from the policy's).
 *
 * In one transaction, the sale row locked: the sale becomes REFUNDED with one `Refund` row
 * (`amountCents` = floor(sale × percent / 100)); if the session has not started its seats go
 * back to AVAILABLE (new versions, their links no longer live, `seat.status-changed`); a
 * `sale.refunded` event is recorded. After the start the seats stay SOLD. The reservation stays
 * CONFIRMED. Refunding a REFUNDED sale returns it unchanged (also when two calls race: the
 * second waits for the first's lock and then finds it refunded). A refusal changes nothing.
 *
 * @param deadline the HTTP request's: the refund commits before it or not at all.
 * @throws DomainError FORBIDDEN (someone else's sale, or a customer passing `percent`),
 *   BAD_USER_INPUT (`percent` outside 0-100, `reason` blank, too long or unprintable, or missing
 *   when an admin's percent differs from the policy's), NOT_FOUND, REFUND_NOT_ALLOWED (the
 *   owner, once the policy gives 0 %), TIMEOUT.
 */
export async function refundSale(
  deps: BookingDependencies,
  em: EntityManager,
  caller: Caller,
  command: RefundSaleCommand,
  deadline?: RequestDeadline,
): Promise<Sale> {
  const chosenPercent = command.percent ?? null;
  if (chosenPercent !== null) {
    if (!caller.isAdmin) {
      throw forbidden('Only admins may choose the refund percent; customers are refunded by the policy.');
    }
    if (!Number.isInteger(chosenPercent) || chosenPercent < 0 || chosenPercent > 100) {
      throw badUserInput('percent', 'percent must be an integer between 0 and 100.');
    }
  }
  const reason = checkedReason(command.reason);
  return deps.transactions.run(em, deadline, async (tx, events) => {
    const { sales, seats, reservations } = repositoriesOf(tx);
    const locked = await sales.lockForRefund(command.saleId, deps.clock);
    if (!locked) {
      throw notFound('Sale', command.saleId);
    }
    const { sale, millisecondsBeforeStart, databaseNow } = locked;
    if (sale.userId !== caller.userId && !caller.isAdmin) {
      throw forbidden('This sale belongs to another user.');
    }
    if (sale.status === SaleStatus.REFUNDED) {
      return sale;
    }
    const policyPercent = refundPolicyPercent(millisecondsBeforeStart);
    let percent = policyPercent;
    if (caller.isAdmin) {
      percent = chosenPercent ?? policyPercent;
      if (percent !== policyPercent && reason === null) {
        throw badUserInput(
          'reason',
          `reason is required when percent (${percent}) differs from the policy's ${policyPercent} %.`,
        );
      }
    } else if (policyPercent === 0) {
      throw refundNotAllowed(sale.id);
    }
    const reservationId = sale.reservation.id;
    const sessionId = sale.session.id;
    const started = millisecondsBeforeStart <= 0;
    // Before the start the seats go back on sale; after it they stay SOLD (no seat event).
    const released = started ? [] : await seats.releaseSoldBy(reservationId);
    const seatIds = (await reservations.seatIdsByReservations([reservationId])).get(reservationId) ?? [];
    sale.status = SaleStatus.REFUNDED;
    const refund = tx.create(Refund, {
      sale,
      amountCents: refundAmountCents(sale.amountCents, percent),
      percent,
      reason,
      createdAt: databaseNow,
      refundedBy: caller.userId,
    });
    events.record('sale.refunded', saleRefunded(sale, refund, seatIds, !started));
    const change = seatStatusChanged(sessionId, reservationId, released, databaseNow);
    if (change) {
      events.recordSeatChange(change);
    }
    return sale;
  });
}
