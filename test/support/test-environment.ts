/**
 * Prefix of the test databases. Every test environment gets a database of its own (and an
 * AMQP prefix of its own): outbox relays publish every unpublished row of their database,
 * so two environments sharing one would publish each other's events.
 */
export const TEST_DATABASE_PREFIX = 'poltrona_test';

const SERVER_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

/** The id of this jest run (its start, unix seconds), set by the global setup. */
export function testRunId(): string {
  const runId = process.env.TEST_RUN_ID;
  if (!runId) {
    throw new Error('TEST_RUN_ID is missing: run the tests through jest (global setup)');
  }
  return runId;
}

export function testDatabaseUrl(database: string): string {
  return `${SERVER_URL}/${database}`;
}

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
