import { randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { loadConfig } from '../../src/config/config';
import { connectDatabase, migrate } from '../../src/infra/database';
import { testEnvironment } from '../support/test-app';

/** The migration files, in the order they apply. */
const MIGRATIONS = readdirSync(join(__dirname, '..', '..', 'migrations'))
  .filter((file) => /^Migration\w+\.ts$/.test(file))
  .map((file) => file.replace(/\.ts$/, ''))
  .sort();

/**
 * The migrations themselves, on a database of their own that starts empty (the other tests'
 * databases are copies of the run's template, migrated once), applied with the same code
 * the application runs on start.
 */
describe('migrations', () => {
  const config = loadConfig(testEnvironment());
  let orm: MikroORM;
  let applied: string[];

  beforeAll(async () => {
    // Creates the database, empty: not a copy of the template.
    orm = await connectDatabase(config.database);
    applied = await migrate(orm, config.database.url);
  });

  afterAll(async () => {
    await orm.close();
  });

  it('are applied and agree with the entities (run `npm run migration:create` after changing one)', async () => {
    expect(MIGRATIONS.length).toBeGreaterThan(0);
    expect(applied).toEqual(MIGRATIONS);
    const migrator = orm.migrator;
    expect(await migrator.getPending()).toEqual([]);
    expect((await migrator.getExecuted()).map((migration) => migration.name)).toEqual(MIGRATIONS);
    expect(await migrator.checkSchema()).toBe(false);
    // On an up-to-date database (every start after the first) there is nothing to apply.
    expect(await migrate(orm, config.database.url)).toEqual([]);
  });

  it('can be reverted down to the initial schema and applied again', async () => {
    const [initial, ...later] = MIGRATIONS;
    const reverted = await orm.migrator.down({ to: initial });
    expect(reverted.map((migration) => migration.name)).toEqual([...later].reverse());
    expect(await orm.migrator.getPending()).toHaveLength(later.length);
    expect(await orm.migrator.checkSchema()).toBe(later.length > 0);
    expect(await migrate(orm, config.database.url)).toEqual(later);
    expect(await orm.migrator.checkSchema()).toBe(false);
  });

  it('let the database itself refuse a second live reservation of a seat', async () => {
    const database = new Client({ connectionString: config.database.url });
    await database.connect();
    try {
      const sessionId = randomUUID();
      const seatId = randomUUID();
      const [first, second] = [randomUUID(), randomUUID()];
      await database.query(
        `insert into session (id, movie, room, starts_at, price_cents, rows, seats_per_row,
                              duration_minutes, ends_at, busy_until, prices, gap_rule)
         values ($1, 'Migrations', '1', now() + interval '1 day', 500, 1, 1,
                 60, now() + interval '1 day 1 hour', now() + interval '1 day 1 hour', '[]', 'OFF')`,
        [sessionId],
      );
      await database.query(
        `insert into seat (id, session_id, row_index, row, number, x, category, kind, price_cents)
         values ($1, $2, 0, 'A', 1, 0, 'STANDARD', 'STANDARD', 500)`,
        [seatId, sessionId],
      );
      for (const reservationId of [first, second]) {
        await database.query(
          `insert into reservation (id, user_id, session_id, expires_at, created_at, updated_at, total_cents)
           values ($1, $2, $3, now() + interval '10 minutes', now(), now(), 500)`,
          [reservationId, `user-${reservationId}`, sessionId],
        );
      }
      const hold = (reservationId: string) =>
        database.query(`insert into reservation_seat (reservation_id, seat_id) values ($1, $2)`, [
          reservationId,
          seatId,
        ]);

      await hold(first);
      // Two reservations live on one seat: PostgreSQL refuses the second, whatever the app does.
      await expect(hold(second)).rejects.toMatchObject({
        code: '23505',
        constraint: 'reservation_seat_live_seat_unique',
      });
      // The index covers live rows only: once the first hold is over, the seat can be held again.
      await database.query(`update reservation_seat set live = false where reservation_id = $1`, [first]);
      await hold(second);
      const { rows } = await database.query(
        `select reservation_id, live from reservation_seat where seat_id = $1 order by live`,
        [seatId],
      );
      expect(rows).toEqual([
        { reservation_id: first, live: false },
        { reservation_id: second, live: true },
      ]);
    } finally {
      await database.end();
    }
  });
});
