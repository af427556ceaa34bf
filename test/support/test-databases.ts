import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { Client } from 'pg';
import { TEST_DATABASE_PREFIX, testDatabaseUrl, testRunId } from './test-environment';

/** Test databases of runs that started longer ago than this are leftovers of crashed runs. */
const STALE_RUN_SECONDS = 6 * 60 * 60;

/** SQLSTATEs met while creating a database. */
const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';
const OBJECT_IN_USE = '55006';

/** Session-level advisory lock (on the maintenance database) serialising retried copies. */
const TEMPLATE_COPY_LOCK_KEY = 7_204_551_002;

/** The run a test database belongs to: `<prefix>_<run start, unix seconds>_<suffix>`. */
function runStartOf(database: string): number | undefined {
  const match = new RegExp(`^${TEST_DATABASE_PREFIX}_(\\d{10})_`).exec(database);
  return match ? Number(match[1]) : undefined;
}

const quoteIdentifier = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const sqlState = (error: unknown): string | undefined => (error as { code?: string }).code;

/** Runs `work` on a connection to the server's maintenance database. */
async function withAdminClient<Result>(work: (admin: Client) => Promise<Result>): Promise<Result> {
  const admin = new Client({ connectionString: testDatabaseUrl('postgres') });
  await admin.connect();
  try {
    return await work(admin);
  } finally {
    await admin.end();
  }
}

/**
 * Drops test databases (never anything not named like one): those of run `runId` (its
 * template too), plus, with `staleToo`, those of runs started hours ago and those named before
 * runs had ids. Runs going on at the same time (two terminals, a benchmark) keep their databases.
 */
export async function dropTestDatabases(runId: string, options: { staleToo?: boolean } = {}): Promise<void> {
  await withAdminClient(async (admin) => {
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
        await admin.query(`drop database if exists ${quoteIdentifier(datname)} with (force)`);
      }
    }
  });
}

/**
 * The name of a test database of this run, told apart from the run's others by `suffix`:
 * carrying the run id, it is dropped by this run's teardown and left alone by the stale-database
 * cleanup of runs going on at the same time.
 */
export function testDatabaseName(suffix: string): string {
  return `${TEST_DATABASE_PREFIX}_${testRunId()}_${suffix}`;
}

/** The run's template database: migrated once by the global setup, copied for every test database. */
export function templateDatabaseName(runId: string): string {
  return `${TEST_DATABASE_PREFIX}_${runId}_template`;
}

/**
 * Once per run (global setup): creates the run's template database and applies the real
 * migrations to it, in a process of its own that has exited (so closed its connections) when
 * this resolves: PostgreSQL copies a database only while nobody is connected to it.
 */
export async function createTemplateDatabase(runId: string): Promise<string> {
  const name = templateDatabaseName(runId);
  await withAdminClient(async (admin) => {
    await admin.query(`drop database if exists ${quoteIdentifier(name)} with (force)`);
    await admin.query(`create database ${quoteIdentifier(name)}`);
  });
  const child = spawn(
    process.execPath,
    [
      '--disable-warning=MODULE_TYPELESS_PACKAGE_JSON',
      '--require',
      '@swc-node/register',
      join(__dirname, 'migrate-database.ts'),
    ],
    {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, NODE_ENV: 'test', LOG_LEVEL: 'silent', DATABASE_URL: testDatabaseUrl(name) },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) {
    throw new Error(`Migrating the template database ${name} failed (exit code ${code}):\n${output}`);
  }
  return name;
}

/** The template of this run, once the global setup has made it (inherited through the environment). */
function currentTemplate(): string | undefined {
  return process.env.TEST_TEMPLATE_DATABASE || undefined;
}

/**
 * Creates the database `databaseUrl` names as a copy of the run's migrated template, unless it
 * exists already, so the application finds its migrations applied and has nothing left to
 * migrate on start. Does nothing (returns false) for a database that is not one of this run's test
 * databases, or when there is no template: the application then creates and migrates it on
 * start, as `npm start` does. Two apps of one deployment may ask at once: one creates it.
 */
export async function createTestDatabase(databaseUrl: string): Promise<boolean> {
  const template = currentTemplate();
  const name = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  const runId = process.env.TEST_RUN_ID;
  if (!template || !runId || name === template || !name.startsWith(`${TEST_DATABASE_PREFIX}_${runId}_`)) {
    return false;
  }
  const copy = async (admin: Client): Promise<boolean> => {
    try {
      await admin.query(`create database ${quoteIdentifier(name)} template ${quoteIdentifier(template)}`);
      return true;
    } catch (error) {
      const code = sqlState(error);
      if (code === DUPLICATE_DATABASE || code === UNIQUE_VIOLATION) {
        return false;
      }
      throw error;
    }
  };
  return withAdminClient(async (admin) => {
    try {
      return await copy(admin);
    } catch (error) {
      // "source database is being accessed by other users": PostgreSQL copies a database
      // nobody is connected to (it waits 5 s for closing connections). Copies made at once
      // do not count as users, but take turns before trying again all the same.
      if (sqlState(error) !== OBJECT_IN_USE) {
        throw error;
      }
      await admin.query('select pg_advisory_lock($1)', [TEMPLATE_COPY_LOCK_KEY]);
      try {
        return await copy(admin);
      } finally {
        await admin.query('select pg_advisory_unlock($1)', [TEMPLATE_COPY_LOCK_KEY]);
      }
    }
  });
}
