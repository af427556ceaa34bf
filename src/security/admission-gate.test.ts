import { ManualScheduler } from '../../test/support/manual-scheduler';
import { ManualClock } from '../infra/clock';
import { type Admission, AdmissionGate, admissionClassOf, type AdmissionLimits } from './admission-gate';

const READS: AdmissionLimits = { concurrency: 100, queueLength: 100, queueTimeoutMilliseconds: 20 };

function gateWith(mutation: AdmissionLimits) {
  const clock = new ManualClock(new Date('2030-01-01T00:00:00Z'));
  const scheduler = new ManualScheduler(clock);
  const gate = new AdmissionGate({ mutation, read: READS }, clock, scheduler.schedule);
  return { gate, clock, scheduler };
}

/** Whether a promise has settled, without waiting for it to. */
async function settled<Value>(promise: Value | Promise<Value>): Promise<{ value?: Value }> {
  const marker = {};
  const value = await Promise.race([promise, Promise.resolve().then(() => marker)]);
  return value === marker ? {} : { value: value as Value };
}

const admitted = (admission: Admission | undefined) => {
  if (!admission?.admitted) {
    throw new Error('expected an admission');
  }
  return admission;
};

describe('AdmissionGate', () => {
  it('admits up to the concurrency at once, queues up to the queue length, refuses the rest at once', async () => {
    const { gate } = gateWith({ concurrency: 2, queueLength: 1, queueTimeoutMilliseconds: 20 });
    const first = await gate.enter('mutation');
    const second = await gate.enter('mutation');
    expect(first.admitted && second.admitted).toBe(true);
    const queued = gate.enter('mutation');
    expect(await settled(queued)).toEqual({});
    expect(await gate.enter('mutation')).toEqual({ admitted: false, retryAfterSeconds: 1 });
    expect(gate.load('mutation')).toEqual({ running: 2, waiting: 1, refused: 1 });

    // A freed slot goes to the waiter, not back to the pool.
    admitted(first).release();
    const handed = admitted((await settled(queued)).value);
    expect(gate.load('mutation')).toMatchObject({ running: 2, waiting: 0 });
    admitted(second).release();
    handed.release();
    expect(gate.load('mutation')).toMatchObject({ running: 0, waiting: 0 });
  });

  it('refuses a waiter whose queue time is up, by its timer or when the gate is next used', async () => {
    const { gate, scheduler } = gateWith({ concurrency: 1, queueLength: 2, queueTimeoutMilliseconds: 20 });
    const running = admitted(await gate.enter('mutation'));
    const early = gate.enter('mutation');
    scheduler.advance(10);
    const late = gate.enter('mutation');
    scheduler.advance(10);
    // The first waiter's 20 ms are up; the second has 10 left.
    expect((await settled(early)).value).toEqual({ admitted: false, retryAfterSeconds: 1 });
    expect(await settled(late)).toEqual({});
    expect(gate.load('mutation')).toEqual({ running: 1, waiting: 1, refused: 1 });
    running.release();
    admitted((await settled(late)).value).release();
    expect(gate.load('mutation')).toEqual({ running: 0, waiting: 0, refused: 1 });
    expect(scheduler.pending).toBe(0);
  });

  it('never hands a slot to a waiter that has waited too long, even before its timer fires', async () => {
    const { gate, clock } = gateWith({ concurrency: 1, queueLength: 1, queueTimeoutMilliseconds: 20 });
    const running = admitted(await gate.enter('mutation'));
    const waiting = gate.enter('mutation');
    clock.advance(25); // the clock moved, the timer has not run yet
    running.release();
    expect((await settled(waiting)).value).toEqual({ admitted: false, retryAfterSeconds: 1 });
    expect(gate.load('mutation')).toMatchObject({ running: 0, waiting: 0 });
  });

  it('frees a slot once however often it is released', async () => {
    const { gate } = gateWith({ concurrency: 1, queueLength: 0, queueTimeoutMilliseconds: 20 });
    const first = admitted(await gate.enter('mutation'));
    first.release();
    const second = admitted(await gate.enter('mutation'));
    first.release();
    expect(await gate.enter('mutation')).toMatchObject({ admitted: false });
    second.release();
    expect(gate.load('mutation').running).toBe(0);
  });

  it('keeps classes apart: a full mutation lane refuses no read', async () => {
    const { gate } = gateWith({ concurrency: 1, queueLength: 0, queueTimeoutMilliseconds: 20 });
    admitted(await gate.enter('mutation'));
    expect(await gate.enter('mutation')).toMatchObject({ admitted: false });
    expect((await gate.enter('read')).admitted).toBe(true);
  });

  it('admits everything of a class whose concurrency is 0', async () => {
    const { gate } = gateWith({ concurrency: 0, queueLength: 0, queueTimeoutMilliseconds: 20 });
    expect(gate.gates('mutation')).toBe(false);
    expect(gate.gates('read')).toBe(true);
    for (let index = 0; index < 1_000; index += 1) {
      expect((await gate.enter('mutation')).admitted).toBe(true);
    }
  });

  it('gates queries and mutations, not subscriptions', () => {
    expect(admissionClassOf('mutation' as never)).toBe('mutation');
    expect(admissionClassOf('query' as never)).toBe('read');
    expect(admissionClassOf(undefined)).toBe('read');
    expect(admissionClassOf('subscription' as never)).toBeNull();
  });
});
