import { randomUUID } from 'node:crypto';
import { type MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { loadConfig } from '../../src/config/config';
import { connectDatabase, migrate } from '../../src/infra/database';
import { repositoriesOf } from '../../src/repositories';
import { testEnvironment } from '../support/test-app';

// The schema before sessions had auditorium, schedule, category prices and seat kinds.
const PREVIOUS_HEAD = 'Migration20261202053809_auditorium';

/**
 * A database made and used by the previous version (sessions, reservations, sales) keeps its
 * data through the migration to scheduled sessions, and the new code reads and books on it.
 */
describe('migrating a database in use to scheduled sessions', () => {
  const config = loadConfig(testEnvironment());
  let orm: MikroORM;
  let database: Client;

  beforeAll(async () => {
    orm = await connectDatabase(config.database);
    await orm.migrator.up({ to: PREVIOUS_HEAD });
    database = new Client({ connectionString: config.database.url });
    await database.connect();
  });

  afterAll(async () => {
    await database.end();
    await orm.close();
  });

  it('keeps sessions, seats, reservations and sales, which then read and book as createSession ones', async () => {
    const sessionId = randomUUID();
    const seatIds = [randomUUID(), randomUUID(), randomUUID()];
    const reservationId = randomUUID();
    const saleId = randomUUID();
    // Written as the previous version wrote them: a 1 x 3 room at 750, A1 sold.
    await database.query(
      `insert into session (id, movie, room, starts_at, price_cents, rows, seats_per_row)
       values ($1, 'Before', 'Room 9', now() + interval '2 days', 750, 1, 3)`,
      [sessionId],
    );
    for (const [index, seatId] of seatIds.entries()) {
      await database.query(
        `insert into seat (id, session_id, row_index, row, number, status, version)
         values ($1, $2, 0, 'A', $3, $4, $5)`,
        [seatId, sessionId, index + 1, index === 0 ? 'SOLD' : 'AVAILABLE', index === 0 ? 3 : 1],
      );
    }
    await database.query(
      `insert into reservation (id, user_id, session_id, status, expires_at, created_at, updated_at, total_cents)
       values ($1, 'old-user', $2, 'CONFIRMED', now() + interval '5 minutes', now(), now(), 750)`,
      [reservationId, sessionId],
    );
    await database.query(`insert into reservation_seat (reservation_id, seat_id) values ($1, $2)`, [
      reservationId,
      seatIds[0],
    ]);
    await database.query(
      `insert into sale (id, user_id, reservation_id, session_id, amount_cents, created_at)
       values ($1, 'old-user', $2, $3, 750, now())`,
      [saleId, reservationId, sessionId],
    );

    expect(await migrate(orm, config.database.url)).toContain('Migration20261202062209_scheduled_sessions');

    const { sessions, seats, sales } = repositoriesOf(orm.em.fork());
    const session = await sessions.findById(sessionId);
    expect(session).toMatchObject({
      movie: 'Before',
      room: 'Room 9',
      priceCents: 750,
      durationMinutes: 120,
      auditorium: null,
      gapRule: 'OFF',
      prices: [{ category: 'STANDARD', priceCents: 750 }],
    });
    expect(session!.endsAt.getTime() - session!.startsAt.getTime()).toBe(120 * 60_000);
    expect(await seats.findBySessions([sessionId])).toEqual([
      expect.objectContaining({ id: seatIds[0], number: 1, x: 0, status: 'SOLD', version: 3 }),
      expect.objectContaining({ id: seatIds[1], number: 2, x: 1, status: 'AVAILABLE', version: 1 }),
      expect.objectContaining({
        id: seatIds[2],
        number: 3,
        x: 2,
        category: 'STANDARD',
        kind: 'STANDARD',
        priceCents: 750,
      }),
    ]);
    expect(await sales.findByReservations([reservationId])).toEqual([
      expect.objectContaining({ id: saleId, amountCents: 750 }),
    ]);

    // The migrated seats book at their price.
    const hold = await orm.em.fork().transactional((tx) =>
      repositoriesOf(tx).seats.holdForNewReservation({
        userId: 'new-user',
        maxActiveHolds: 5,
        sessionId,
        sessionStartsAt: new Date(Date.now() + 86_400_000),
        seatIds: [seatIds[1], seatIds[2]].sort(),
        holdSeconds: 60,
        reservation: { id: randomUUID(), idempotencyKey: null, lockToken: null },
      }),
    );
    expect(hold.held.map((seat) => seat.priceCents)).toEqual([750, 750]);
    // And an old row without the new columns can no longer be written: every column is filled.
    const { rows } = await database.query(
      `select count(*)::int as missing from seat where x is null or category is null or kind is null or price_cents is null`,
    );
    expect(rows).toEqual([{ missing: 0 }]);
  });

  it('refuses to revert while scheduled sessions exist, and keeps everything', async () => {
    const auditoriumId = randomUUID();
    await database.query(
      `insert into auditorium (id, name, cleaning_buffer_minutes, categories, capacity, rows, legend)
       values ($1, $2, 15, '["STANDARD"]', 1, '["s"]', '[{"symbol":"s","category":"STANDARD","kind":"STANDARD"}]')`,
      [auditoriumId, `Hall ${auditoriumId}`],
    );
    await database.query(
      `insert into session (id, movie, room, starts_at, duration_minutes, ends_at, busy_until, auditorium_id,
                            price_cents, prices, gap_rule, rows, seats_per_row)
       values ($1, 'Scheduled', 'Hall', now() + interval '3 days', 60, now() + interval '3 days 1 hour',
               now() + interval '3 days 75 minutes', $2, 500, '[{"category":"STANDARD","priceCents":500}]',
               'NO_SINGLE_SEAT', 1, 1)`,
      [randomUUID(), auditoriumId],
    );
    await expect(orm.migrator.down({ to: PREVIOUS_HEAD })).rejects.toThrow(/would lose them/);
    expect(await orm.migrator.getPending()).toEqual([]);
    const { rows } = await database.query(
      `select (select count(*)::int from session where auditorium_id = $1) as sessions,
              to_regclass('refund') is not null as refunds_table`,
      [auditoriumId],
    );
    expect(rows).toEqual([{ sessions: 1, refunds_table: true }]);
  });
});
