import { randomUUID } from 'node:crypto';
import { type EntityManager, type MikroORM } from '@mikro-orm/postgresql';
import { type BookingDependencies } from '../../src/booking/booking-dependencies';
import { type BookingEvent } from '../../src/booking/booking-events';
import { BookingTransactions } from '../../src/booking/booking-transaction';
import { rowLetters } from '../../src/seating/seat-label';
import { GapRule, SeatKind } from '../../src/entities/enums';
import { STANDARD_CATEGORY } from '../../src/seating/auditorium-layout';
import { sessionSpan } from '../../src/seating/schedule';
import { Seat } from '../../src/entities/seat.entity';
import { Session } from '../../src/entities/session.entity';
import { ManualClock } from '../../src/infra/clock';
import { RedisSeatLockGate, type SeatLockResult, type SeatLocks } from '../../src/infra/seat-locks';
import { startingStatementTimeout } from '../../src/mikro-orm.config';
import { connectMigratedTestDatabase } from './test-app';

/**
 * Seat locks in memory, with Redis's semantics (all or none, compare-and-delete release); set
 * `down` to make every call fail as an unreachable Redis would.
 */
export class InMemorySeatLocks implements Pick<SeatLocks, 'acquire' | 'release' | 'extend'> {
  readonly tokens = new Map<string, string>();
  /** The TTL each lock was last extended to, by `sessionId:seatId` (acquire sets none). */
  readonly extendedTtls = new Map<string, number>();
  down = false;

  async acquire(sessionId: string, seatIds: readonly string[]): Promise<SeatLockResult> {
    this.failIfDown();
    const held = seatIds.filter((seatId) => this.tokens.has(`${sessionId}:${seatId}`));
    if (held.length > 0) {
      return { acquired: false, heldSeatIds: held };
    }
    const token = randomUUID();
    seatIds.forEach((seatId) => this.tokens.set(`${sessionId}:${seatId}`, token));
    return { acquired: true, token };
  }

  async release(sessionId: string, seatIds: readonly string[], token: string): Promise<number> {
    this.failIfDown();
    let released = 0;
    for (const seatId of seatIds) {
      const key = `${sessionId}:${seatId}`;
      if (this.tokens.get(key) === token) {
        this.tokens.delete(key);
        released += 1;
      }
    }
    return released;
  }

  async extend(
    sessionId: string,
    seatIds: readonly string[],
    token: string,
    ttlMilliseconds: number,
  ): Promise<number> {
    this.failIfDown();
    let extended = 0;
    for (const seatId of seatIds) {
      const key = `${sessionId}:${seatId}`;
      if (this.tokens.get(key) === token) {
        this.extendedTtls.set(key, ttlMilliseconds);
        extended += 1;
      }
    }
    return extended;
  }

  private failIfDown(): void {
    if (this.down) {
      throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    }
  }
}

/** The use cases' dependencies over a real database, with in-memory locks and a manual clock. */
export interface BookingHarness {
  readonly deps: BookingDependencies;
  readonly clock: ManualClock;
  readonly locks: InMemorySeatLocks;
  /** Events of committed transactions, in commit order. */
  readonly events: BookingEvent[];
  readonly warnings: string[];
  readonly lockConflicts: () => number;
  /** A fresh entity manager, as one request would have. */
  em(): EntityManager;
}

export const HARNESS_HOLD_SECONDS = 60;
export const HARNESS_HOLD_MAX_SECONDS = 150;

export function bookingHarness(orm: MikroORM): BookingHarness {
  const clock = new ManualClock(new Date());
  const locks = new InMemorySeatLocks();
  const events: BookingEvent[] = [];
  const warnings: string[] = [];
  let conflicts = 0;
  const deps: BookingDependencies = {
    transactions: new BookingTransactions(
      (committed) => events.push(...committed),
      startingStatementTimeout(orm.config),
    ),
    seatLocks: new RedisSeatLockGate(locks, {
      ttlMilliseconds: HARNESS_HOLD_SECONDS * 1_000,
      logger: { warn: (message) => warnings.push(message) },
      onConflict: () => {
        conflicts += 1;
      },
    }),
    clock,
    holdSeconds: HARNESS_HOLD_SECONDS,
    holdMaxSeconds: HARNESS_HOLD_MAX_SECONDS,
  };
  return { deps, clock, locks, events, warnings, lockConflicts: () => conflicts, em: () => orm.em.fork() };
}

/** A session starting in a day, with `seatCount` AVAILABLE seats in row A, straight to the database. */
export async function insertSession(
  orm: MikroORM,
  { seatCount = 4, priceCents = 1_000, startsAt = new Date(Date.now() + 86_400_000) } = {},
): Promise<{ id: string; seatIds: string[] }> {
  const em = orm.em.fork();
  const session = em.create(Session, {
    movie: 'Service test',
    room: 'Room S',
    startsAt,
    durationMinutes: 120,
    ...sessionSpan(startsAt, 120, 0),
    priceCents,
    prices: [{ category: STANDARD_CATEGORY, priceCents }],
    gapRule: GapRule.OFF,
    rows: 1,
    seatsPerRow: seatCount,
  });
  const seats = Array.from({ length: seatCount }, (_, index) =>
    em.create(Seat, {
      session,
      rowIndex: 0,
      row: rowLetters(0),
      number: index + 1,
      x: index,
      category: STANDARD_CATEGORY,
      kind: SeatKind.STANDARD,
      priceCents,
    }),
  );
  await em.flush();
  return { id: session.id, seatIds: seats.map((seat) => seat.id).sort() };
}

/** A user id no other test uses. */
export function someUser(): { userId: string; isAdmin: boolean } {
  return { userId: `user-${randomUUID()}`, isAdmin: false };
}

/**
 * Registers the jest hooks of a use-case test file: one migrated database for the file, and a
 * fresh harness (clock, seat locks, recorded events) for each test. Read `orm` and `harness`
 * inside tests and hooks, once the hooks have run.
 */
export function useBookingHarness(): { readonly orm: MikroORM; readonly harness: BookingHarness } {
  const state = {} as { orm: MikroORM; harness: BookingHarness };
  beforeAll(async () => {
    state.orm = await connectMigratedTestDatabase();
  });
  afterAll(async () => {
    await state.orm?.close();
  });
  beforeEach(() => {
    state.harness = bookingHarness(state.orm);
  });
  return state;
}
