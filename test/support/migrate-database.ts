import 'reflect-metadata';
import { loadConfig } from '../../src/config/config';
import { connectDatabase, migrate } from '../../src/infra/database';

/**
 * Run by the jest global setup in a process of its own (`node -r @swc-node/register`): applies
 * the TypeScript migrations, as the test apps would, to the database in `DATABASE_URL` (the
 * run's template). A process of its own, because MikroORM's metadata must not be loaded in
 * jest's parent process, and so that no connection to the template outlives it.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const orm = await connectDatabase({ ...config.database, poolSize: 1 });
  try {
    const applied = await migrate(orm, config.database.url);
    console.log(applied.join('\n'));
  } finally {
    await orm.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exit(1);
});
