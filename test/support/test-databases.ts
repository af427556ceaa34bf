import { Client } from 'pg';
import { TEST_DATABASE_PREFIX, testDatabaseUrl } from './test-environment';

/** Test databases of runs that started longer ago than this are leftovers of crashed runs. */
const STALE_RUN_SECONDS = 6 * 60 * 60;

/** The run a test database belongs to: `<prefix>_<run start, unix seconds>_<suffix>`. */
function runStartOf(database: string): number | undefined {
  const match = new RegExp(`^${TEST_DATABASE_PREFIX}_(\\d{10})_`).exec(database);
  return match ? Number(match[1]) : undefined;
}

/**
 * Drops test databases (never anything not named like one): those of run `runId`, plus, with
 * `staleToo`, those of runs started hours ago and those named before runs had ids. Runs going
 * on at the same time (two terminals, a benchmark) keep their databases.
 */
export async function dropTestDatabases(runId: string, options: { staleToo?: boolean } = {}): Promise<void> {
  const admin = new Client({ connectionString: testDatabaseUrl('postgres') });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `select datname from pg_database where datname like $1`,
      [`${TEST_DATABASE_PREFIX}\\_%`],
    );
    const now = Math.floor(Date.now() / 1_000);
    for (const { datname } of rows) {
      const runStart = runStartOf(datname);
      const ours = datname.startsWith(`${TEST_DATABASE_PREFIX}_${runId}_`);
      const stale = runStart === undefined || now - runStart > STALE_RUN_SECONDS;
      if (ours || (options.staleToo && stale)) {
        await admin.query(`drop database if exists "${datname.replace(/"/g, '""')}" with (force)`);
      }
    }
  } finally {
    await admin.end();
  }
}
