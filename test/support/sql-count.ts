import { type Application } from '../../src/app';

/**
 * Runs `work` and counts the SQL statements `app` sends meanwhile, leaving out the outbox
 * relay's and the sweeper's background work.
 */
export async function countQueries<Result>(
  app: Application,
  work: () => Promise<Result>,
): Promise<{ result: Result; queries: number }> {
  let queries = 0;
  const config = app.orm.config;
  const previous = config.get('onQuery');
  config.set('onQuery', (sql: string, params: readonly unknown[]) => {
    if (!/outbox_event|'EXPIRED'/.test(sql)) {
      queries += 1;
    }
    return previous(sql, params);
  });
  try {
    const result = await work();
    return { result, queries };
  } finally {
    config.set('onQuery', previous);
  }
}
