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

  function hold(
    sessionId: string,
    seatIds: string[],
    { userId = `user-${uuidv7()}`, idempotencyKey = null as string | null, maxActiveHolds = 5 } = {},
  ) {
    const id = uuidv7();
    return orm.em.fork().transactional(async (tx) => ({
      id,
      outcome: await tx.getRepository(Seat).holdForNewReservation({
        userId,
        maxActiveHolds,
        sessionId,
        seatIds,
        holdSeconds: 60,
        reservation: { id, idempotencyKey, lockToken: null },
      }),
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

  it('inserts no reservation when a seat could not be held', async () => {
    const session = await insertSession(orm);
    await hold(session.id, [session.seatIds[1]]);
    // The statement's own transaction commits here: what it wrote is exactly what a partial hold leaves.
    const { id, outcome } = await hold(session.id, session.seatIds.slice(0, 2));
    expect(outcome.held.map((seat) => seat.id)).toEqual([session.seatIds[0]]);
    expect(await reservationRow(id)).toBeUndefined();
  });

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
