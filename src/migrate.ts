import 'reflect-metadata';
import { loadConfig } from './config/config';
import { connectDatabase, migrate } from './infra/database';

/** `npm run migrate`: create the database if missing and apply pending migrations. */
async function main(): Promise<void> {
  const config = loadConfig();
  const orm = await connectDatabase({ ...config.database, poolSize: 2 });
  try {
    const applied = await migrate(orm, config.database.url);
    console.log(applied.length ? `Applied ${applied.join(', ')}` : 'No pending migrations');
  } finally {
    await orm.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
