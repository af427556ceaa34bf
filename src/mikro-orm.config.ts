import 'reflect-metadata';
import { join } from 'node:path';
import { ReflectMetadataProvider } from '@mikro-orm/decorators/legacy';
import { Migrator } from '@mikro-orm/migrations';
import { type Configuration, defineConfig, type Options } from '@mikro-orm/postgresql';
import { type Pool, type PoolConfig } from 'pg';
import { type Config } from './config/config';
import { ENTITIES } from './entities';
import { prepareMarkedStatements } from './infra/prepared-statements';
import { ROUTINES } from './entities/user-holds-lock';

/**
 * The one MikroORM configuration, used by the app, the `mikro-orm` CLI and the tests
 * (which override only the database URL). Every connection gets a statement, a lock and an
 * idle-in-transaction timeout, and the wait for a pooled connection is bounded, so no query
 * can hang a request (requests lower these further to their own deadline, see
 * `transactionWithin`).
 */
export function createOrmOptions(database: Config['database']): Options {
  // __filename ends in .ts under jest and the CLI's @swc-node loader: there the migrations are
  // read as TypeScript. MikroORM cannot tell on its own under @swc/jest and would find none.
  const runningTypeScript = __filename.endsWith('.ts');
  return defineConfig({
    clientUrl: database.url,
    entities: ENTITIES,
    routines: ROUTINES,
    // The entities use legacy decorators with emitted type metadata (as in MikroORM 6).
    metadataProvider: ReflectMetadataProvider,
    extensions: [Migrator],
    preferTs: runningTypeScript,
    pool: { min: 0, max: database.poolSize },
    // Passed as they are to the pg Pool: every connection starts with these settings.
    driverOptions: {
      statement_timeout: database.statementTimeoutMilliseconds,
      lock_timeout: database.lockTimeoutMilliseconds,
      // A transaction whose client stopped talking (a stuck process) must not keep its locks.
      idle_in_transaction_session_timeout: database.idleInTransactionTimeoutMilliseconds,
      // Bounds the wait for a free pooled connection too (pg-pool applies it to queued
      // requests), which would otherwise be unbounded, far past any request's deadline.
      connectionTimeoutMillis: database.poolAcquireTimeoutMilliseconds,
      // The hot path's statements run as named prepared statements (infra/prepared-statements.ts).
      onPoolCreated: prepareMarkedStatements,
    } satisfies PoolConfig & { onPoolCreated: (pool: Pool) => void },
    // MikroORM 7 no longer adds `on update cascade` to foreign keys by default; the existing
    // migrations have it, so keep it (else the schema check reports drift).
    schemaGenerator: { defaultUpdateRule: 'cascade' },
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

/**
 * The statement timeout (milliseconds, lock waits included; 0 when unbounded) every
 * connection of `config` starts with, as {@link createOrmOptions} set it.
 */
export function startingStatementTimeout(config: Configuration): number {
  const { statement_timeout: statementTimeout } = config.get('driverOptions') as PoolConfig;
  return typeof statementTimeout === 'number' ? statementTimeout : 0;
}
