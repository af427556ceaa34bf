/** The test database is kept after a run for inspection; the next run recreates it. */
export default async function globalTeardown(): Promise<void> {}
