/** More than this long before the start, the policy refunds 100 %. */
export const FULL_REFUND_BEFORE_START_MILLISECONDS = 24 * 3_600_000;

/** More than this long before the start (and not more than 24 h), the policy refunds 50 %. */
export const HALF_REFUND_BEFORE_START_MILLISECONDS = 12 * 3_600_000;

/**
 * The cancellation policy (seed 004): the share of a sale given back when it is refunded
 * `millisecondsBeforeStart` before its session starts, measured by the database clock (see
 * `SaleRepository.lockForRefund`): 100 while more than 24 h remain, 50 while more than 12 h
 * remain, else 0 (exactly 24 h left is 50; exactly 12 h, or a session that has started, is 0).
 */
export function refundPolicyPercent(millisecondsBeforeStart: number): number {
  if (millisecondsBeforeStart > FULL_REFUND_BEFORE_START_MILLISECONDS) {
    return 100;
  }
  if (millisecondsBeforeStart > HALF_REFUND_BEFORE_START_MILLISECONDS) {
    return 50;
  }
  return 0;
}

/** The amount given back for `percent` of a sale of `saleAmountCents`: rounded down to the cent. */
export function refundAmountCents(saleAmountCents: number, percent: number): number {
  return Math.floor((saleAmountCents * percent) / 100);
}
