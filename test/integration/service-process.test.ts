import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { runScript, startService } from '../support/processes';
import { topologyNames } from '../../src/events/topology';
import { removeTopology, testEnvironment } from '../support/test-app';
import { testDatabaseName } from '../support/test-databases';
import { TEST_AMQP_URL, testDatabaseUrl } from '../support/test-environment';

/** The real entry points, as `npm start`, `npm run migrate` and `npm run token` run them. */
describe('service processes', () => {
  const environments: Record<string, string>[] = [];
  const environment = () => {
    const env = testEnvironment({ LOG_LEVEL: 'info' });
    environments.push(env);
    return env;
  };

  afterAll(async () => {
    for (const env of environments) {
      await removeTopology(TEST_AMQP_URL, topologyNames(env.AMQP_PREFIX, 30)).catch(() => undefined);
    }
  });

  it('serves GraphQL and health checks, and exits 0 on SIGTERM', async () => {
    const service = await startService(environment());
    try {
      expect(await (await fetch(`${service.baseUrl}/healthz`)).json()).toEqual({
        status: 'ok',
        checks: { postgres: true, redis: true, rabbitmq: true },
      });
      const ready = await fetch(`${service.baseUrl}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: { postgres: true, redis: true, rabbitmq: true },
      });
      const response = await fetch(`${service.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ sessions(first: 1) { pageInfo { hasNextPage } } }' }),
      });
      expect(response.status).toBe(200);
    } finally {
      expect(await service.stop('SIGTERM')).toBe(0);
    }
    // Logs are JSON lines.
    for (const line of service.output().trim().split('\n')) {
      expect(() => JSON.parse(line) as unknown).not.toThrow();
    }
  });

  it('ROLE=worker serves health checks but no GraphQL', async () => {
    const service = await startService({ ...environment(), ROLE: 'worker' });
    try {
      expect((await fetch(`${service.baseUrl}/healthz`)).status).toBe(200);
      expect((await fetch(`${service.baseUrl}/readyz`)).status).toBe(200);
      const graphql = await fetch(`${service.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: '{ __typename }' }),
      });
      expect(graphql.status).toBe(404);
    } finally {
      expect(await service.stop('SIGINT')).toBe(0);
    }
  });

  it('refuses bad configuration at start, naming the variable', async () => {
    for (const [name, value] of [
      ['HOLD_SECONDS', 'soon'],
      ['ROLE', 'everything'],
      ['DATABASE_URL', 'mysql://localhost/x'],
      ['PORT', '70000'],
    ]) {
      const result = await runScript('main.js', [], { ...environment(), [name]: value });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(name);
    }
    const production = await runScript('main.js', [], {
      ...environment(),
      NODE_ENV: 'production',
      AUTH_PUBLIC_KEY: '',
    });
    expect(production.code).toBe(1);
    expect(production.stderr).toContain('AUTH_PUBLIC_KEY');
  });

  it('creates a dev key pair and issues working tokens with `npm run token`', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'poltrona-dev-keys-'));
    const env = { ...environment(), AUTH_PUBLIC_KEY: '', NODE_ENV: 'development' };
    const service = await startService(env, directory);
    try {
      const issued = await runScript('token.js', ['--user', 'dev-admin', '--admin'], env, directory);
      expect(issued.code).toBe(0);
      const token = issued.stdout.trim();
      const response = await fetch(`${service.baseUrl}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({
          query: `mutation { createSession(input: { movie: "Dev", room: "1", startsAt: "2099-01-01T20:00:00Z",
                    priceCents: 1, rows: 1, seatsPerRow: 1 }) { id } }`,
        }),
      });
      const body = (await response.json()) as { data?: { createSession: { id: string } }; errors?: unknown };
      expect(body.errors).toBeUndefined();
      expect(body.data?.createSession.id).toBeDefined();
      expect(service.output()).not.toContain(token);
    } finally {
      await service.stop();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('migrates a fresh database safely when several processes start at once', async () => {
    // Named with the run id: another run's cleanup of stale databases leaves it alone.
    const database = testDatabaseName(`migrate_${process.pid}`);
    const admin = new Client({ connectionString: testDatabaseUrl('postgres') });
    await admin.connect();
    try {
      await admin.query(`drop database if exists "${database}" with (force)`);
      const env = { ...environment(), DATABASE_URL: testDatabaseUrl(database) };
      const results = await Promise.all([1, 2, 3].map(() => runScript('migrate.js', [], env)));
      expect(results.map((result) => [result.code, result.stderr])).toEqual([
        [0, ''],
        [0, ''],
        [0, ''],
      ]);
      const check = new Client({ connectionString: testDatabaseUrl(database) });
      await check.connect();
      try {
        const applied = await check.query('select name from mikro_orm_migrations');
        const migrationFiles = results.flatMap((result) => result.stdout.match(/Migration\w+/g) ?? []);
        expect(applied.rowCount).toBe(new Set(migrationFiles).size);
        const tables = await check.query(
          `select table_name from information_schema.tables where table_schema = 'public' order by table_name`,
        );
        expect(tables.rows.map((row: { table_name: string }) => row.table_name)).toEqual([
          'auditorium',
          'consumed_message',
          'mikro_orm_migrations',
          'outbox_event',
          'refund',
          'reservation',
          'reservation_seat',
          'sale',
          'seat',
          'seat_change',
          'session',
        ]);
      } finally {
        await check.end();
      }
    } finally {
      await admin.query(`drop database if exists "${database}" with (force)`);
      await admin.end();
    }
  });
});
