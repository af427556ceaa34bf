import { generateKeyPair } from '../../src/infra/dev-keys';
import { dropTestDatabases } from './test-databases';

/**
 * Once per jest run: drops test databases a previous run left behind, and makes a key pair
 * standing in for the identity provider (workers inherit it through the environment). Each
 * test environment then creates its own database and applies the real migrations on start,
 * as `npm start` does. MikroORM is not loaded here: its metadata must live in the tests' realm.
 */
export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  await dropTestDatabases();
  const keys = generateKeyPair();
  process.env.TEST_AUTH_PRIVATE_KEY = keys.privateKeyPem;
  process.env.TEST_AUTH_PUBLIC_KEY = keys.publicKeyPem;
}
