import { randomUUID } from 'node:crypto';
import { type MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { loadConfig } from '../../src/config/config';
import { connectDatabase, migrate } from '../../src/infra/database';
import { testEnvironment } from '../support/test-app';

// A version from before issue 13 (auditorium, no schedule, no refunds): its sales have no status.
const BEFORE_REFUNDS = 'Migration20261202053809_auditorium';

/**
 * The refunds migration on a database holding sales made by the previous version: they are kept
 * and read as PAID, and the database then refuses a second refund of one sale.
 */
describe('refunds migration', () => {
  const config = loadConfig(testEnvironment());
  let orm: MikroORM;
  let database: Client;

  beforeAll(async () => {
    // An empty database of its own (not a copy of the migrated template).
    orm = await connectDatabase(config.database);
    await orm.migrator.up({ to: BEFORE_REFUNDS });
    database = new Client({ connectionString: config.database.url });
    await database.connect();
  });

  afterAll(async () => {
    await database?.end();
    await orm?.close();
  });

  it('keeps the sales of the previous version as PAID, and allows one refund per sale', async () => {
    const [sessionId, seatId, reservationId, saleId] = [
      randomUUID(),
      randomUUID(),
      randomUUID(),
      randomUUID(),
    ];
    await database.query(
      `insert into session (id, movie, room, starts_at, price_cents, rows, seats_per_row)
       values ($1, 'Before refunds', '1', now() + interval '2 days', 700, 1, 1)`,
      [sessionId],
    );
    await database.query(
      `insert into seat (id, session_id, row_index, row, number, status, version) values ($1, $2, 0, 'A', 1, 'SOLD', 3)`,
      [seatId, sessionId],
    );
    await database.query(
      `insert into reservation (id, user_id, session_id, status, expires_at, created_at, updated_at, total_cents)
       values ($1, 'user-old', $2, 'CONFIRMED', now() + interval '30 seconds', now(), now(), 700)`,
      [reservationId, sessionId],
    );
    await database.query(`insert into reservation_seat (reservation_id, seat_id) values ($1, $2)`, [
      reservationId,
      seatId,
    ]);
    await database.query(
      `insert into sale (id, user_id, reservation_id, session_id, amount_cents, created_at)
       values ($1, 'user-old', $2, $3, 700, now())`,
      [saleId, reservationId, sessionId],
    );

    const applied = await migrate(orm, config.database.url);
    expect(applied).toContain('Migration20261202062506_sale_refunds');
    expect(await orm.migrator.checkSchema()).toBe(false);

    const { rows } = await database.query(`select id, status, amount_cents from sale where id = $1`, [
      saleId,
    ]);
    expect(rows).toEqual([{ id: saleId, status: 'PAID', amount_cents: 700 }]);

    const refund = (percent: number, amountCents: number) =>
      database.query(
        `insert into refund (id, sale_id, amount_cents, percent, reason, created_at, refunded_by)
         values ($1, $2, $3, $4, null, now(), 'user-old')`,
        [randomUUID(), saleId, amountCents, percent],
      );
    await expect(refund(101, 700)).rejects.toMatchObject({
      code: '23514',
      constraint: 'refund_percent_check',
    });
    await expect(refund(50, -1)).rejects.toMatchObject({
      code: '23514',
      constraint: 'refund_amount_cents_check',
    });
    await refund(100, 700);
    await expect(refund(100, 700)).rejects.toMatchObject({ code: '23505', constraint: 'refund_sale_unique' });
    await expect(
      database.query(`update sale set status = 'GONE' where id = $1`, [saleId]),
    ).rejects.toMatchObject({
      code: '23514',
      constraint: 'sale_status_check',
    });
  });
});
