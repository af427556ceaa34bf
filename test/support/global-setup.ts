import { generateKeyPair } from '../../src/infra/dev-keys';
import { createTemplateDatabase, dropTestDatabases } from './test-databases';

/**
 * Once per jest run: names the run (its databases carry the id, so runs going on at once never
 * drop each other's), drops databases crashed runs left behind, makes a key pair standing in
 * for the identity provider, and migrates the run's template database once. Each test
 * database is then a copy of the template (`createTestDatabase`), so the apps find their
 * migrations applied; the migrations' own tests start from empty databases. Workers inherit
 * all of it through the environment. MikroORM is not loaded here (the template is migrated
 * by a child process): its metadata must live in the tests' realm.
 */
export default async function globalSetup(): Promise<void> {
  process.env.NODE_ENV = 'test';
  const runId = String(Math.floor(Date.now() / 1_000));
  process.env.TEST_RUN_ID = runId;
  // The template's migration (about a second, in its own process) goes on meanwhile.
  const template = createTemplateDatabase(runId);
  const stale = dropTestDatabases(runId, { staleToo: true });
  const keys = generateKeyPair();
  process.env.TEST_AUTH_PRIVATE_KEY = keys.privateKeyPem;
  process.env.TEST_AUTH_PUBLIC_KEY = keys.publicKeyPem;
  const [templateName] = await Promise.all([template, stale]);
  process.env.TEST_TEMPLATE_DATABASE = templateName;
}
