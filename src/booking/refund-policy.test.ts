import {
  FULL_REFUND_BEFORE_START_MILLISECONDS,
  HALF_REFUND_BEFORE_START_MILLISECONDS,
  refundAmountCents,
  refundPolicyPercent,
} from './refund-policy';

const HOUR = 3_600_000;

describe('refund policy (seed 004)', () => {
  it('gives 100 % while more than 24 h remain, 50 % while more than 12 h remain, else 0 %', () => {
    expect(FULL_REFUND_BEFORE_START_MILLISECONDS).toBe(24 * HOUR);
    expect(HALF_REFUND_BEFORE_START_MILLISECONDS).toBe(12 * HOUR);
    const cases: [number, number][] = [
      [30 * 24 * HOUR, 100],
      [24 * HOUR + 0.001, 100],
      [24 * HOUR, 50],
      [18 * HOUR, 50],
      [12 * HOUR + 1, 50],
      [12 * HOUR, 0],
      [HOUR, 0],
      [0, 0],
      [-HOUR, 0],
    ];
    for (const [left, percent] of cases) {
      expect([left, refundPolicyPercent(left)]).toEqual([left, percent]);
    }
  });

  it('rounds the amount down to the cent', () => {
    expect(refundAmountCents(2_500, 100)).toBe(2_500);
    expect(refundAmountCents(2_500, 50)).toBe(1_250);
    expect(refundAmountCents(1_251, 50)).toBe(625);
    expect(refundAmountCents(999, 33)).toBe(329);
    expect(refundAmountCents(999, 0)).toBe(0);
    expect(refundAmountCents(10_000_000 * 10, 99)).toBe(99_000_000);
  });
});
