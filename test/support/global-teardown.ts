import { dropTestDatabases } from './test-databases';

/** Removes the databases the run created. */
export default async function globalTeardown(): Promise<void> {
  await dropTestDatabases();
}
