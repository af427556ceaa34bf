/** The database every integration test shares; tests isolate themselves by their own data. */
export const TEST_DATABASE_NAME = 'poltrona_test';

const SERVER_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';

export function testDatabaseUrl(database: string = TEST_DATABASE_NAME): string {
  return `${SERVER_URL}/${database}`;
}

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
export const TEST_AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
