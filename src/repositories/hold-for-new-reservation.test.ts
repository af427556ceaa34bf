import { type MikroORM } from '@mikro-orm/postgresql';
import { insertSession } from '../../test/support/booking-harness';
import { connectMigratedTestDatabase } from '../../test/support/test-app';
import { Seat } from '../entities/seat.entity';
import { uuidv7 } from '../infra/uuid';
import { ReservationConflict } from './reservation.repository';

describe('SeatRepository.holdForNewReservation', () => {
  let orm: MikroORM;

  beforeAll(async () => {
    orm = await connectMigratedTestDatabase();
  });
  afterAll(async () => {
    await orm.close();
  });

  /** What one hold asks for: a new reservation of `seatIds`, ending in 60 s. */
  function holdOf(
    sessionId: string,
    seatIds: string[],
    {
      userId = `user-${uuidv7()}`,
      idempotencyKey = null as string | null,
      maxActiveHolds = 5,
      sessionStartsAt = new Date(Date.now() + 86_400_000),
    } = {},
  ) {
    return {
      userId,
      maxActiveHolds,
      sessionId,
      sessionStartsAt,
      seatIds,
      holdSeconds: 60,
      reservation: { id: uuidv7(), idempotencyKey, lockToken: null },
    };
  }

  /** One hold in a transaction of its own; `id`: the reservation it would insert. */
  function hold(sessionId: string, seatIds: string[], options: Parameters<typeof holdOf>[2] = {}) {
    const wanted = holdOf(sessionId, seatIds, options);
    return orm.em.fork().transactional(async (tx) => ({
      id: wanted.reservation.id,
      outcome: await tx.getRepository(Seat).holdForNewReservation(wanted),
    }));
  }

  /** The reservation as stored; `ends_at_hold`: its end is `holdEnd` (to the millisecond, as the entity built from the outcome has it). */
  async function reservationRow(id: string, holdEnd: Date | null = null) {
    const rows: { total_cents: number; ends_at_hold: boolean; links: number }[] = await orm.em.fork().execute(
      `select total_cents, expires_at = ?::timestamptz as ends_at_hold,
                (select count(*)::int from reservation_seat where reservation_id = r.id and live) as links
           from reservation r where id = ?`,
      [holdEnd, id],
    );
    return rows[0];
  }

  it('inserts the reservation with its links, total and end when every seat is held', async () => {
    const session = await insertSession(orm, { priceCents: 1_250 });
    const { id, outcome } = await hold(session.id, session.seatIds.slice(0, 2));
    expect(outcome.held).toHaveLength(2);
    expect(await reservationRow(id, outcome.holdExpiresAt)).toEqual({
      total_cents: 2_500,
      ends_at_hold: true,
      links: 2,
    });
  });

  it('runs as a named prepared statement with bind parameters', async () => {
    const session = await insertSession(orm);
    const prepared = await orm.em.fork().transactional(async (tx) => {
      await tx.getRepository(Seat).holdForNewReservation(holdOf(session.id, [session.seatIds[0]]));
      // Same connection: the transaction's.
      return tx.execute<{ name: string; parameter_types: string }[]>(
        `select name, parameter_types::text from pg_prepared_statements where name = 'hold_for_new_reservation'`,
      );
    });
    expect(prepared).toEqual([
      { name: 'hold_for_new_reservation', parameter_types: expect.stringContaining('uuid[]') },
    ]);
  });

  it('refuses to run outside a transaction, where nothing would undo a partial hold', async () => {
    const session = await insertSession(orm);
    await expect(
      orm.em
        .fork()
        .getRepository(Seat)
        .holdForNewReservation(holdOf(session.id, [session.seatIds[0]])),
    ).rejects.toThrow(/inside a transaction/);
  });

  it('inserts no reservation when a seat could not be held', async () => {
    const session = await insertSession(orm);
    await hold(session.id, [session.seatIds[1]]);
    // The statement's own transaction commits here: what it wrote is exactly what a partial hold leaves.
    const { id, outcome } = await hold(session.id, session.seatIds.slice(0, 2));
    expect(outcome.held.map((seat) => seat.id)).toEqual([session.seatIds[0]]);
    expect(await reservationRow(id)).toBeUndefined();
  });

  it('holds and inserts nothing once the session has started', async () => {
    const session = await insertSession(orm);
    const { id, outcome } = await hold(session.id, [session.seatIds[0]], {
      sessionStartsAt: new Date(Date.now() - 1_000),
    });
    expect(outcome).toMatchObject({ sessionStarted: true, held: [] });
    expect(await reservationRow(id)).toBeUndefined();
  });

  it('counts the holds the previous holder of the user lock committed while it waited', async () => {
    const session = await insertSession(orm);
    const userId = `user-${uuidv7()}`;
    // A reserve of the same user holds the user lock and commits a hold after this one queued.
    const first = orm.em.fork();
    await first.begin();
    await first.execute('select pg_advisory_xact_lock(7204, hashtext(?))', [userId]);
    const waiting = hold(session.id, [session.seatIds[1]], { userId, maxActiveHolds: 1 });
    await waitUntilBlockedOnAdvisoryLock(userId);
    await first.execute(
      `insert into reservation (id, user_id, session_id, status, expires_at, created_at, updated_at, total_cents)
       values (?, ?, ?, 'PENDING', now() + interval '1 minute', now(), now(), 0)`,
      [uuidv7(), userId, session.id],
    );
    await first.commit();
    const { id, outcome } = await waiting;
    expect(outcome).toMatchObject({ activeHolds: 1, held: [] });
    expect(await reservationRow(id)).toBeUndefined();
  });

  it('holds a seat that a transaction freed while the hold waited for its row', async () => {
    const session = await insertSession(orm);
    const [seatId] = session.seatIds;
    await hold(session.id, [seatId]);
    // An expiry or a cancel frees the seat, and commits only once the hold queues behind it:
    // the hold's snapshot, taken before that commit, still sees the seat held.
    const freeing = orm.em.fork();
    await freeing.begin();
    await freeing.execute(`update reservation_seat set live = false where seat_id = ? and live`, [seatId]);
    await freeing.execute(`update seat set status = 'AVAILABLE', hold_expires_at = null where id = ?`, [
      seatId,
    ]);
    const waiting = hold(session.id, [seatId]);
    await waitUntilBlockedOnRowLock();
    await freeing.commit();
    const { id, outcome } = await waiting;
    expect(outcome.held.map((seat) => seat.id)).toEqual([seatId]);
    expect(await reservationRow(id, outcome.holdExpiresAt)).toMatchObject({ ends_at_hold: true, links: 1 });
  });

  it('holds nothing of a seat that a transaction took while the hold waited for its row', async () => {
    const session = await insertSession(orm);
    const [seatId] = session.seatIds;
    // The hold's snapshot sees the seat free; the row as locked, once the other commits, does not.
    const taking = orm.em.fork();
    await taking.begin();
    await taking.getRepository(Seat).holdForNewReservation(holdOf(session.id, [seatId]));
    const waiting = hold(session.id, [seatId]);
    await waitUntilBlockedOnRowLock();
    await taking.commit();
    const { id, outcome } = await waiting;
    expect(outcome.held).toEqual([]);
    expect(await reservationRow(id)).toBeUndefined();
  });

  /** Resolves once a backend waits on another transaction's row lock (the hold's `for update`). */
  async function waitUntilBlockedOnRowLock(): Promise<void> {
    for (;;) {
      const [row]: { waiting: number }[] = await orm.em.fork().execute(
        `select count(*)::int as waiting from pg_stat_activity
          where datname = current_database() and wait_event_type = 'Lock' and wait_event = 'transactionid'`,
      );
      if (row.waiting > 0) {
        return;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Resolves once a backend waits for the per-user advisory lock of `userId`. */
  async function waitUntilBlockedOnAdvisoryLock(userId: string): Promise<void> {
    for (;;) {
      const [row]: { waiting: number }[] = await orm.em.fork().execute(
        `select count(*)::int as waiting from pg_locks
          where locktype = 'advisory' and not granted and classid = 7204 and objid = hashtext(?)::oid`,
        [userId],
      );
      if (row.waiting > 0) {
        return;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  it('inserts nothing at the pending-holds limit', async () => {
    const session = await insertSession(orm);
    const userId = `user-${uuidv7()}`;
    await hold(session.id, [session.seatIds[0]], { userId, maxActiveHolds: 1 });
    const { id, outcome } = await hold(session.id, [session.seatIds[1]], { userId, maxActiveHolds: 1 });
    expect(outcome).toMatchObject({ activeHolds: 1, held: [] });
    expect(await reservationRow(id)).toBeUndefined();
  });

  it('translates the idempotency key index by its name', async () => {
    const session = await insertSession(orm);
    const userId = `user-${uuidv7()}`;
    await hold(session.id, [session.seatIds[0]], { userId, idempotencyKey: 'same' });
    await expect(hold(session.id, [session.seatIds[1]], { userId, idempotencyKey: 'same' })).rejects.toEqual(
      new ReservationConflict('idempotency-key'),
    );
  });

  it('translates the one-live-reservation-per-seat index by its name', async () => {
    const session = await insertSession(orm);
    await hold(session.id, [session.seatIds[0]]);
    // A seat marked AVAILABLE while a live link still holds it: only the index stands in the way.
    await orm.em
      .fork()
      .execute(`update seat set status = 'AVAILABLE', hold_expires_at = null where id = ?`, [
        session.seatIds[0],
      ]);
    await expect(hold(session.id, [session.seatIds[0]])).rejects.toMatchObject({ kind: 'seat-taken' });
  });
});
