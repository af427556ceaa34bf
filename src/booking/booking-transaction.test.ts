import { connectMigratedTestDatabase } from '../../test/support/test-app';
import { type MikroORM } from '@mikro-orm/postgresql';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { RequestDeadline } from '../infra/request-deadline';
import { BookingTransactions, RollbackWith, type TransactionSlot } from './booking-transaction';

/** An admission that counts what it hands out and what comes back. */
function countingAdmission(admit: boolean) {
  const counts = { admitted: 0, released: 0, refused: 0 };
  const enter = (): TransactionSlot => {
    if (!admit) {
      counts.refused += 1;
      return { admitted: false, retryAfterSeconds: 1 };
    }
    counts.admitted += 1;
    return { admitted: true, release: () => (counts.released += 1) };
  };
  return { counts, enter };
}

/**
 * Admission of booking transactions (README, "Overload behaviour"): every slot handed out comes
 * back whatever way the transaction ends, and a refused transaction never reaches PostgreSQL.
 */
describe('BookingTransactions with admission control (PostgreSQL)', () => {
  let orm: MikroORM;

  beforeAll(async () => {
    orm = await connectMigratedTestDatabase();
  });

  afterAll(async () => {
    await orm.close();
  });

  const transactionsWith = (admission: ReturnType<typeof countingAdmission>) =>
    new BookingTransactions(() => undefined, 0, admission.enter);

  it('gives the slot back after a commit, a throw, a rollback with an outcome and a timeout', async () => {
    const admission = countingAdmission(true);
    const transactions = transactionsWith(admission);

    await expect(transactions.run(orm.em.fork(), undefined, async () => 'committed')).resolves.toBe(
      'committed',
    );
    await expect(
      transactions.run(orm.em.fork(), undefined, async () => {
        throw new DomainError(ErrorCode.NotFound, 'gone');
      }),
    ).rejects.toMatchObject({ code: ErrorCode.NotFound });
    await expect(
      transactions.run(orm.em.fork(), undefined, async () => {
        throw new RollbackWith('answered');
      }),
    ).resolves.toBe('answered');
    const spent = new RequestDeadline(0, () => undefined);
    await expect(transactions.run(orm.em.fork(), spent, async () => 'late')).rejects.toMatchObject({
      code: ErrorCode.Timeout,
    });

    expect(admission.counts).toEqual({ admitted: 4, released: 4, refused: 0 });
  });

  it('refuses with RATE_LIMITED and retryAfterSeconds before any statement runs', async () => {
    const admission = countingAdmission(false);
    let ran = false;
    await expect(
      transactionsWith(admission).run(orm.em.fork(), undefined, async () => {
        ran = true;
      }),
    ).rejects.toMatchObject({ code: ErrorCode.RateLimited, details: { retryAfterSeconds: 1 } });
    expect(ran).toBe(false);
    expect(admission.counts).toEqual({ admitted: 0, released: 0, refused: 1 });
  });

  it('runs without asking when it has no admission (the workers)', async () => {
    const transactions = new BookingTransactions(() => undefined, 0);
    await expect(transactions.run(orm.em.fork(), undefined, async () => 'ran')).resolves.toBe('ran');
  });
});
