import { dropTestDatabases } from './test-databases';
import { testRunId } from './test-environment';

/** Removes the databases the run created, its template among them. */
export default async function globalTeardown(): Promise<void> {
  await dropTestDatabases(testRunId());
}
