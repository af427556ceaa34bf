import { type MikroORM } from '@mikro-orm/postgresql';
import { createLogger } from '../infra/logger';
import { ExpirySweeper } from './expiry-sweeper';

/** Extra sweeps (`sweepIn`) on fake timers; the database is not needed: sweeps are counted. */
describe('ExpirySweeper.sweepIn', () => {
  const START = 1_000_000;
  let sweeps: number[];
  let sweeper: ExpirySweeper;

  beforeEach(() => {
    jest.useFakeTimers({ now: START });
    sweeps = [];
    const orm = { em: { fork: () => ({}) } } as unknown as MikroORM;
    // The periodic sweep is an hour away: every sweep counted here is an extra one.
    sweeper = new ExpirySweeper(
      orm,
      async () => {
        sweeps.push(Date.now() - START);
        return [];
      },
      createLogger('silent'),
      3_600_000,
    );
  });

  afterEach(async () => {
    await sweeper.stop();
    jest.useRealTimers();
  });

  it('sweeps once at the asked moment, never before it', async () => {
    sweeper.start();
    sweeper.sweepIn(120);
    await jest.advanceTimersByTimeAsync(119);
    expect(sweeps).toEqual([]);
    // Rounded up to the next 50 ms.
    await jest.advanceTimersByTimeAsync(31);
    expect(sweeps).toEqual([150]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(sweeps).toEqual([150]);
  });

  it('sweeps in order of the moments asked, once for moments asked close together', async () => {
    sweeper.start();
    sweeper.sweepIn(500);
    sweeper.sweepIn(210);
    sweeper.sweepIn(230);
    sweeper.sweepIn(400);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sweeps).toEqual([250, 400, 500]);
  });

  it('does nothing while stopped, and forgets what was asked when stopped', async () => {
    sweeper.sweepIn(100);
    sweeper.start();
    sweeper.sweepIn(200);
    await sweeper.stop();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(sweeps).toEqual([]);
  });

  it('leaves moments over two hours ahead, and nonsense, to the periodic sweep', async () => {
    sweeper.start();
    sweeper.sweepIn(2 * 3_600_000 + 1);
    sweeper.sweepIn(Number.NaN);
    sweeper.sweepIn(-5);
    await jest.advanceTimersByTimeAsync(3_600_000 - 1);
    expect(sweeps).toEqual([]);
  });
});
