import { generateKeyPair } from '../../src/infra/dev-keys';
import { dropTestDatabases } from './test-databases';

/**
 * Once per jest run: names the run (its databases carry the id, so runs going on at once never
 * drop each other's), drops databases crashed runs left behind, and makes a key pair
 * standing in for the identity provider (workers inherit it through the environment). Each
 * test environment then creates its own database and applies the real migrations on start,
 * as `npm start` does. MikroORM is not loaded here: its metadata must live in the tests' realm.
 */
export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  process.env.TEST_RUN_ID = String(Math.floor(Date.now() / 1_000));
  await dropTestDatabases(process.env.TEST_RUN_ID, { staleToo: true });
  const keys = generateKeyPair();
  process.env.TEST_AUTH_PRIVATE_KEY = keys.privateKeyPem;
  process.env.TEST_AUTH_PUBLIC_KEY = keys.publicKeyPem;
}
