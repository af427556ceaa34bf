import { RedisSeatLockGate, type SeatLockResult } from './seat-locks';

function gateOver(store: { acquire?: () => Promise<SeatLockResult>; release?: () => Promise<number> }) {
  const warnings: string[] = [];
  let conflicts = 0;
  const gate = new RedisSeatLockGate(
    {
      acquire: store.acquire ?? (async () => ({ acquired: true, token: 't' })),
      release: store.release ?? (async () => 1),
    },
    {
      ttlMilliseconds: 1_000,
      logger: { warn: (message) => warnings.push(message) },
      onConflict: () => {
        conflicts += 1;
      },
    },
  );
  return { gate, warnings, conflicts: () => conflicts };
}

const down = async (): Promise<never> => {
  throw new Error('ECONNREFUSED');
};

describe('SeatLockGate policy', () => {
  it('proceeds with the token when the locks are taken', async () => {
    const { gate } = gateOver({});
    expect(await gate.acquire('s', ['a'], { deferConflicts: false })).toEqual({
      outcome: 'proceed',
      token: 't',
    });
  });

  it('degrades to PostgreSQL alone when Redis is down, with a warning', async () => {
    const { gate, warnings } = gateOver({ acquire: down });
    expect(await gate.acquire('s', ['a'], { deferConflicts: false })).toEqual({
      outcome: 'proceed',
      token: null,
    });
    expect(warnings).toEqual(['Redis unavailable: reserving through PostgreSQL alone']);
  });

  it('turns a conflict away and counts it, unless told to defer it to PostgreSQL', async () => {
    const taken = async (): Promise<SeatLockResult> => ({ acquired: false, heldSeatIds: ['a'] });
    const { gate, conflicts } = gateOver({ acquire: taken });
    expect(await gate.acquire('s', ['a', 'b'], { deferConflicts: false })).toEqual({
      outcome: 'conflict',
      heldSeatIds: ['a'],
    });
    expect(await gate.acquire('s', ['a', 'b'], { deferConflicts: true })).toEqual({
      outcome: 'proceed',
      token: null,
    });
    expect(conflicts()).toBe(1);
  });

  it('never fails a release: the TTL ends the lock anyway', async () => {
    const { gate, warnings } = gateOver({ release: down });
    await expect(gate.release('s', ['a'], 't')).resolves.toBeUndefined();
    expect(warnings).toEqual(['Could not release seat locks']);
  });
});
