import { Client } from 'pg';
import { generateKeyPair } from '../../src/infra/dev-keys';
import { TEST_DATABASE_NAME, testDatabaseUrl } from './test-environment';

/**
 * Once per jest run: drops the test database, so the first application a test starts creates
 * it and applies the real migrations (the same path as `npm start`, concurrency-safe), and
 * makes a key pair standing in for the identity provider. Workers inherit the keys through
 * the environment. MikroORM is not loaded here: its metadata must live in the tests' realm.
 */
export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  const admin = new Client({ connectionString: testDatabaseUrl('postgres') });
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${TEST_DATABASE_NAME}" with (force)`);
  } finally {
    await admin.end();
  }
  const keys = generateKeyPair();
  process.env.TEST_AUTH_PRIVATE_KEY = keys.privateKeyPem;
  process.env.TEST_AUTH_PUBLIC_KEY = keys.publicKeyPem;
}
