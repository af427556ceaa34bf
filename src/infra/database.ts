import { MikroORM } from '@mikro-orm/postgresql';
import { Client } from 'pg';
import { type Config } from '../config/config';
import { createOrmOptions } from '../mikro-orm.config';

// Any fixed number shared by every Poltrona process: the session-level advisory lock that
// serialises migrations when several processes start at once.
const MIGRATION_LOCK_KEY = 7_204_551_001;

/** Creates the database named in `databaseUrl` if it does not exist yet. */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!name) {
    throw new Error('DATABASE_URL names no database');
  }
  const maintenance = new URL(databaseUrl);
  maintenance.pathname = '/postgres';
  const client = new Client({ connectionString: maintenance.toString() });
  await client.connect();
  try {
    const existing = await client.query('select 1 from pg_database where datname = $1', [name]);
    if (existing.rowCount === 0) {
      try {
        await client.query(`create database "${name.replace(/"/g, '""')}"`);
      } catch (error) {
        // Another process created it between our check and now: PostgreSQL says 42P04
        // (duplicate_database), or 23505 when both inserts into pg_database raced.
        const code = (error as { code?: string }).code;
        if (code !== '42P04' && code !== '23505') {
          throw error;
        }
      }
    }
  } finally {
    await client.end();
  }
}

/**
 * Applies pending migrations. Safe when several processes start together: they take turns
 * behind a PostgreSQL advisory lock, and the later ones find nothing left to apply.
 */
export async function migrate(orm: MikroORM, databaseUrl: string): Promise<string[]> {
  const lockClient = new Client({ connectionString: databaseUrl });
  await lockClient.connect();
  try {
    await lockClient.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await orm.migrator.up();
    return applied.map((migration) => migration.name);
  } finally {
    await lockClient.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await lockClient.end();
  }
}

/** Connects the ORM (creating the database if missing). Does not migrate. */
export async function connectDatabase(database: Config['database']): Promise<MikroORM> {
  await ensureDatabase(database.url);
  return MikroORM.init(createOrmOptions(database));
}
