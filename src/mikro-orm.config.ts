import 'reflect-metadata';
import { join } from 'node:path';
import { Migrator } from '@mikro-orm/migrations';
import { defineConfig, type Options } from '@mikro-orm/postgresql';
import { type Config } from './config';
import { ENTITIES } from './entities';

/**
 * The one MikroORM configuration, used by the app, the `mikro-orm` CLI and the tests
 * (which override only the database URL). Every connection gets a statement and a lock
 * timeout, so no query can hang a request.
 */
export function createOrmOptions(database: Config['database']): Options {
  // __filename ends in .ts under ts-node and jest: there the migrations are read as
  // TypeScript. MikroORM cannot tell on its own under @swc/jest and would find none.
  const runningTypeScript = __filename.endsWith('.ts');
  return defineConfig({
    clientUrl: database.url,
    entities: ENTITIES,
    extensions: [Migrator],
    discovery: { disableDynamicFileAccess: true },
    preferTs: runningTypeScript,
    pool: { min: 0, max: database.poolSize },
    driverOptions: {
      connection: {
        statement_timeout: database.statementTimeoutMilliseconds,
        lock_timeout: database.lockTimeoutMilliseconds,
      },
    },
    forceUtcTimezone: true,
    allowGlobalContext: false,
    debug: false,
    migrations: {
      tableName: 'mikro_orm_migrations',
      path: join(__dirname, '..', 'migrations'),
      pathTs: join(__dirname, '..', 'migrations'),
      glob: runningTypeScript ? '!(*.d).ts' : '!(*.d).js',
      silent: true,
      transactional: true,
      allOrNothing: true,
      snapshot: false,
      emit: 'ts',
      fileName: (timestamp: string, name?: string) => `Migration${timestamp}${name ? `_${name}` : ''}`,
    },
  });
}
