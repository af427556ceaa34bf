import { Client } from 'pg';
import { TEST_DATABASE_PREFIX, testDatabaseUrl } from './test-environment';

/** Drops every test database (refuses to touch anything not named like one). */
export async function dropTestDatabases(): Promise<void> {
  const admin = new Client({ connectionString: testDatabaseUrl('postgres') });
  await admin.connect();
  try {
    const { rows } = await admin.query<{ datname: string }>(
      `select datname from pg_database where datname like $1`,
      [`${TEST_DATABASE_PREFIX}\\_%`],
    );
    for (const { datname } of rows) {
      if (datname.startsWith(`${TEST_DATABASE_PREFIX}_`)) {
        await admin.query(`drop database if exists "${datname}" with (force)`);
      }
    }
  } finally {
    await admin.end();
  }
}
