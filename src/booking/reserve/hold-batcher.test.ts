import { type EntityManager } from '@mikro-orm/postgresql';
import { insertSession, someUser, useBookingHarness } from '../../../test/support/booking-harness';
import { SeatStatus } from '../../entities/enums';
import { ManualClock } from '../../infra/clock';
import { RequestDeadline } from '../../infra/request-deadline';
import { repositoriesOf } from '../../repositories';
import { type BookingDependencies } from '../booking-dependencies';
import { MAX_ACTIVE_HOLDS_PER_USER } from '../booking-limits';
import { startingStatementTimeout } from '../../mikro-orm.config';
import { BookingTransactions } from '../booking-transaction';
import { HoldBatcher } from './hold-batcher';
import { reserve } from './reserve';

describe('HoldBatcher (group commit of holds, on PostgreSQL)', () => {
  const booking = useBookingHarness();

  /** The harness's dependencies with a batcher of `concurrency` groups at a time; `sizes`: its groups. */
  function grouped(concurrency = 1) {
    const sizes: number[] = [];
    // How many events each commit of the batcher's transactions told.
    const commits: number[] = [];
    const transactions = new BookingTransactions((committed) => {
      commits.push(committed.length);
      booking.harness.events.push(...committed);
    }, startingStatementTimeout(booking.orm.config));
    const batcher = new HoldBatcher(
      { ...booking.harness.deps, transactions },
      { maxSize: 16, concurrency },
      (size) => sizes.push(size),
    );
    const deps: BookingDependencies = { ...booking.harness.deps, holdBatcher: batcher };
    return { deps, batcher, sizes, commits };
  }

  /** Locks `seatIds`' rows in a transaction of its own until `release`: holds of them wait. */
  async function lockRows(seatIds: string[]) {
    const em = booking.orm.em.fork();
    await em.begin();
    await em.execute('select id from seat where id = any(array[?]::uuid[]) for update', [seatIds]);
    return { release: () => em.commit() };
  }

  /** Resolves once `count` backends of this database wait for a row lock. */
  async function untilWaitingForRows(count = 1): Promise<void> {
    for (;;) {
      const [row]: { waiting: number }[] = await booking.orm.em.fork().execute(
        `select count(*)::int as waiting from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock'`,
      );
      if (row.waiting >= count) {
        return;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  async function untilQueued(batcher: HoldBatcher, count: number): Promise<void> {
    while (batcher.waiting < count) {
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * Starts a hold of `blockedSeat` that waits for its row, so the group's one transaction is
   * busy while the test queues the holds of the next group; `release` lets it finish.
   */
  async function busyWithOneHold(deps: BookingDependencies, user = someUser()) {
    const session = await insertSession(booking.orm, { seatCount: 1 });
    const lock = await lockRows(session.seatIds);
    const first = reserve(deps, booking.harness.em(), user, {
      sessionId: session.id,
      seatIds: session.seatIds,
    });
    await untilWaitingForRows();
    return {
      release: async () => {
        await lock.release();
        await first;
      },
    };
  }

  const seatStatuses = async (em: EntityManager, seatIds: string[]) =>
    (await repositoriesOf(em).seats.findByIds(seatIds, booking.harness.clock)).map((seat) => seat.status);

  it('holds concurrent reserves in one transaction, each with its own reservation and events', async () => {
    const { deps, batcher, sizes, commits } = grouped();
    const one = await insertSession(booking.orm);
    const other = await insertSession(booking.orm);
    const busy = await busyWithOneHold(deps);
    const commands = [
      { sessionId: one.id, seatIds: [one.seatIds[0]] },
      { sessionId: one.id, seatIds: [one.seatIds[1], one.seatIds[2]] },
      { sessionId: other.id, seatIds: [other.seatIds[3]] },
      { sessionId: one.id, seatIds: [one.seatIds[3]] },
    ];
    const users = commands.map(() => someUser());
    const holds = commands.map((command, index) =>
      reserve(deps, booking.harness.em(), users[index], command),
    );
    await untilQueued(batcher, commands.length);
    await busy.release();
    const reservations = await Promise.all(holds);

    expect(sizes).toEqual([1, commands.length]);
    // One commit told all their events (a reservation and a seat change each), after the busy hold's.
    expect(commits).toEqual([2, 2 * commands.length]);
    reservations.forEach((reservation, index) => {
      expect(reservation.userId).toBe(users[index].userId);
      expect(reservation.session.id).toBe(commands[index].sessionId);
      expect(reservation.totalCents).toBe(commands[index].seatIds.length * 1_000);
    });
    expect(await seatStatuses(booking.harness.em(), one.seatIds)).toEqual(Array(4).fill(SeatStatus.RESERVED));
    // One reservation.created each; one numbered seat change each, in map-version order per session.
    // The busy hold's, then one each.
    const created = booking.harness.events.filter((event) => event.topic === 'reservation.created');
    expect(created).toHaveLength(1 + commands.length);
    expect(created.map((event) => event.payload.reservationId)).toEqual(
      expect.arrayContaining(reservations.map((reservation) => reservation.id)),
    );
    const versionsOf = (sessionId: string) =>
      booking.harness.events.flatMap((event) =>
        event.topic === 'seat.status-changed' && event.payload.sessionId === sessionId
          ? [event.payload.mapVersion]
          : [],
      );
    expect(versionsOf(one.id)).toEqual([1, 2, 3]);
    expect(versionsOf(other.id)).toEqual([1]);
  });

  it('answers each hold the group could not make on its own, leaving nothing of it, and holds the others', async () => {
    const { deps, batcher, sizes } = grouped();
    const session = await insertSession(booking.orm, { seatCount: 12 });
    const seat = session.seatIds;
    // Taken in PostgreSQL behind the Redis locks' back: only the hold statement sees it.
    booking.harness.locks.down = true;
    await reserve(booking.harness.deps, booking.harness.em(), someUser(), {
      sessionId: session.id,
      seatIds: [seat[0]],
    });
    booking.harness.locks.down = false;
    const atLimit = someUser();
    for (let index = 0; index < MAX_ACTIVE_HOLDS_PER_USER; index += 1) {
      await reserve(booking.harness.deps, booking.harness.em(), atLimit, {
        sessionId: session.id,
        seatIds: [seat[1 + index]],
      });
    }
    const started = await insertSession(booking.orm, { startsAt: new Date(Date.now() - 60_000) });
    const busy = await busyWithOneHold(deps);
    const outcomes = [
      { sessionId: session.id, seatIds: [seat[0], seat[6]] },
      { sessionId: session.id, seatIds: [seat[7]] },
      { sessionId: session.id, seatIds: [seat[8]], user: atLimit },
      { sessionId: started.id, seatIds: [started.seatIds[0]] },
      { sessionId: session.id, seatIds: [seat[9]] },
    ].map(({ user, ...command }) =>
      reserve(deps, booking.harness.em(), user ?? someUser(), command).then(
        () => 'OK',
        (error: { code: string; details?: unknown }) => ({ code: error.code, details: error.details }),
      ),
    );
    await untilQueued(batcher, outcomes.length);
    await busy.release();

    expect(await Promise.all(outcomes)).toEqual([
      { code: 'SEAT_UNAVAILABLE', details: expect.objectContaining({ seatIds: [seat[0]] }) },
      'OK',
      { code: 'LIMIT_EXCEEDED', details: { limit: MAX_ACTIVE_HOLDS_PER_USER } },
      { code: 'SESSION_CLOSED', details: expect.anything() },
      'OK',
    ]);
    expect(sizes).toEqual([1, outcomes.length]);
    // The unavailable request's free seat and the limited user's seat were not left held.
    expect(await seatStatuses(booking.harness.em(), [seat[6], seat[7], seat[8], seat[9]])).toEqual([
      SeatStatus.AVAILABLE,
      SeatStatus.RESERVED,
      SeatStatus.AVAILABLE,
      SeatStatus.RESERVED,
    ]);
    const held = await booking.harness
      .em()
      .execute<{ count: number }[]>(
        `select count(*)::int as count from reservation where session_id = ? and status = 'PENDING'`,
        [session.id],
      );
    expect(held[0].count).toBe(1 + MAX_ACTIVE_HOLDS_PER_USER + 2);
  });

  it("counts one user's holds of the same group against each other's limit", async () => {
    const { deps, batcher } = grouped();
    const session = await insertSession(booking.orm, { seatCount: 8 });
    const user = someUser();
    for (let index = 0; index < MAX_ACTIVE_HOLDS_PER_USER - 1; index += 1) {
      await reserve(deps, booking.harness.em(), user, {
        sessionId: session.id,
        seatIds: [session.seatIds[index]],
      });
    }
    const busy = await busyWithOneHold(deps);
    const outcomes = [6, 7].map((index) =>
      reserve(deps, booking.harness.em(), user, {
        sessionId: session.id,
        seatIds: [session.seatIds[index]],
      }).then(
        () => 'OK',
        (error: { code: string }) => error.code,
      ),
    );
    await untilQueued(batcher, outcomes.length);
    await busy.release();
    expect((await Promise.all(outcomes)).sort()).toEqual(['LIMIT_EXCEEDED', 'OK']);
  });

  it("keeps a user's hold out of other groups while one of theirs runs", async () => {
    const { deps, batcher, sizes } = grouped(2);
    const session = await insertSession(booking.orm);
    const user = someUser();
    const busy = await busyWithOneHold(deps, user);
    const own = reserve(deps, booking.harness.em(), user, {
      sessionId: session.id,
      seatIds: [session.seatIds[0]],
    });
    await untilQueued(batcher, 1);
    // Another user's hold starts at once in the free group; the user's own waits.
    await reserve(deps, booking.harness.em(), someUser(), {
      sessionId: session.id,
      seatIds: [session.seatIds[1]],
    });
    expect(batcher.waiting).toBe(1);
    expect(sizes).toEqual([1, 1]);
    await busy.release();
    await own;
    expect(sizes).toEqual([1, 1, 1]);
  });

  it('keeps a hold of seats that a running group holds out of other groups', async () => {
    const { deps, batcher, sizes } = grouped(2);
    // PostgreSQL alone decides (no Redis locks): both holds of the busy seat reach it.
    booking.harness.locks.down = true;
    const session = await insertSession(booking.orm, { seatCount: 1 });
    const lock = await lockRows(session.seatIds);
    const first = reserve(deps, booking.harness.em(), someUser(), {
      sessionId: session.id,
      seatIds: session.seatIds,
    });
    await untilWaitingForRows();
    const second = reserve(deps, booking.harness.em(), someUser(), {
      sessionId: session.id,
      seatIds: session.seatIds,
    }).then(
      () => 'OK',
      (error: { code: string }) => error.code,
    );
    await untilQueued(batcher, 1);
    // Another seat's hold starts at once in the free group; the busy seat's waits for the next.
    const other = await insertSession(booking.orm, { seatCount: 1 });
    await reserve(deps, booking.harness.em(), someUser(), { sessionId: other.id, seatIds: other.seatIds });
    expect(batcher.waiting).toBe(1);
    await lock.release();
    await first;
    expect(await second).toBe('SEAT_UNAVAILABLE');
    expect(sizes).toEqual([1, 1, 1]);
  });

  it('holds alone a request with little time left, outside the group', async () => {
    const { deps, batcher, sizes } = grouped();
    const session = await insertSession(booking.orm);
    const busy = await busyWithOneHold(deps);
    const clock = new ManualClock(new Date());
    const short = new RequestDeadline(10_000, () => undefined, clock);
    const holds = [
      reserve(
        deps,
        booking.harness.em(),
        someUser(),
        { sessionId: session.id, seatIds: [session.seatIds[0]] },
        short,
      ),
      reserve(deps, booking.harness.em(), someUser(), {
        sessionId: session.id,
        seatIds: [session.seatIds[1]],
      }),
      reserve(deps, booking.harness.em(), someUser(), {
        sessionId: session.id,
        seatIds: [session.seatIds[2]],
      }),
    ];
    await untilQueued(batcher, holds.length);
    clock.advance(9_500);
    await busy.release();
    await Promise.all(holds);
    expect(sizes).toEqual([1, 2]);
  });

  it('runs each hold alone when the group cannot commit: one out of time is answered TIMEOUT, the others held', async () => {
    const { deps, batcher, sizes } = grouped();
    const session = await insertSession(booking.orm);
    const [waitedFor, late, other] = session.seatIds;
    const busy = await busyWithOneHold(deps);
    // The group will wait for this row; the late request's time runs out meanwhile.
    const lock = await lockRows([waitedFor]);
    const clock = new ManualClock(new Date());
    const answeredTimeout: string[] = [];
    const deadline = new RequestDeadline(10_000, () => answeredTimeout.push('late'), clock);
    const outcomes = [
      reserve(deps, booking.harness.em(), someUser(), { sessionId: session.id, seatIds: [waitedFor] }),
      reserve(deps, booking.harness.em(), someUser(), { sessionId: session.id, seatIds: [late] }, deadline),
      reserve(deps, booking.harness.em(), someUser(), { sessionId: session.id, seatIds: [other] }),
    ].map((hold) =>
      hold.then(
        () => 'OK',
        (error: { code: string }) => error.code,
      ),
    );
    await untilQueued(batcher, outcomes.length);
    await busy.release();
    await untilWaitingForRows();
    clock.advance(10_000);
    await lock.release();

    expect(await Promise.all(outcomes)).toEqual(['OK', 'TIMEOUT', 'OK']);
    expect(answeredTimeout).toEqual(['late']);
    expect(sizes).toEqual([1, 3]);
    expect(await seatStatuses(booking.harness.em(), [waitedFor, late, other])).toEqual([
      SeatStatus.RESERVED,
      SeatStatus.AVAILABLE,
      SeatStatus.RESERVED,
    ]);
  });
});
