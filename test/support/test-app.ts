import { randomUUID } from 'node:crypto';
import { type Application, type ApplicationOptions, startApplication } from '../../src/app';
import { type MikroORM } from '@mikro-orm/postgresql';
import { loadConfig } from '../../src/config/config';
import { connectDatabase, migrate } from '../../src/infra/database';
import { signToken } from '../../src/infra/dev-keys';
import { type TypedDocumentNode } from '@graphql-typed-document-node/core';
import { connect } from 'amqplib';
import { type DocumentNode, print } from 'graphql';
import { deleteTopology } from '../../src/events/topology';
import { createLogger, type Logger } from '../../src/infra/logger';
import { createTestDatabase, testDatabaseName } from './test-databases';
import { TEST_AMQP_URL, TEST_REDIS_URL, testDatabaseUrl } from './test-environment';

/** A GraphQL response as the client sees it. */
export interface GraphQLResponse<Data = Record<string, unknown>> {
  readonly status: number;
  readonly data?: Data | null;
  readonly errors?: {
    message: string;
    path?: string[];
    extensions: { code: string; [key: string]: unknown };
  }[];
}

/** A running Poltrona process for one test file, plus helpers to talk to it. */
export interface TestApp {
  readonly app: Application;
  readonly url: string;
  /** A valid token for `userId`, signed by the test identity provider. */
  token(userId: string, options?: { admin?: boolean; expiresIn?: string | number }): Promise<string>;
  /**
   * POSTs a GraphQL operation as JSON. With a generated typed document (`client/generated`),
   * variables and data are typed; a plain string or untyped call is for deliberately bad input.
   */
  graphql: GraphQLPoster;
  stop(): Promise<void>;
}

export function testPrivateKey(): string {
  const key = process.env.TEST_AUTH_PRIVATE_KEY;
  if (!key) {
    throw new Error('TEST_AUTH_PRIVATE_KEY is missing: run the tests through jest (global setup)');
  }
  return key;
}

/**
 * Environment of a test deployment: a database and an AMQP prefix of its own (created on first
 * start, the database as a copy of the run's migrated template; dropped after the run), the
 * test identity provider's key, quiet logs.
 */
export function testEnvironment(overrides: Record<string, string> = {}): Record<string, string> {
  const suffix = randomUUID().replace(/-/g, '').slice(0, 12);
  return {
    NODE_ENV: 'test',
    DATABASE_URL: testDatabaseUrl(testDatabaseName(suffix)),
    DATABASE_POOL_SIZE: '10',
    REDIS_URL: TEST_REDIS_URL,
    AMQP_URL: TEST_AMQP_URL,
    AMQP_PREFIX: `test-${suffix}`,
    AUTH_PUBLIC_KEY: process.env.TEST_AUTH_PUBLIC_KEY ?? '',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // Tests send bursts from one address; the rate-limit tests set their own budgets.
    RATE_LIMIT_MUTATIONS_PER_MINUTE: '1000000',
    RATE_LIMIT_READS_PER_MINUTE: '1000000',
    // Race tests send hundreds of reserves at once; admission control (overload) would turn
    // most away before they race. Its own tests turn it on.
    ADMISSION_MUTATIONS_CONCURRENCY: '0',
    ADMISSION_READS_CONCURRENCY: '0',
    ...overrides,
  };
}

/**
 * A migrated database of its own, with no application around it (no relay, no consumers):
 * for tests that drive one component against real PostgreSQL.
 */
export async function connectMigratedTestDatabase(): Promise<MikroORM> {
  const config = loadConfig(testEnvironment());
  await createTestDatabase(config.database.url);
  const orm = await connectDatabase(config.database);
  // Nothing to apply on a copy of the template; still run, as the app does on start.
  await migrate(orm, config.database.url);
  return orm;
}

/** Sends typed documents with typed variables, or anything else loosely. */
export interface GraphQLPoster {
  <Result, Variables>(
    document: TypedDocumentNode<Result, Variables>,
    variables: NoInfer<Variables>,
    token?: string,
  ): Promise<GraphQLResponse<Result>>;
  <Data = Record<string, unknown>>(
    query: string | DocumentNode,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<GraphQLResponse<Data>>;
}

/** POSTs a GraphQL operation as JSON to `url`. */
export async function postGraphQL<Data = Record<string, unknown>>(
  url: string,
  query: string | DocumentNode,
  variables?: unknown,
  token?: string,
): Promise<GraphQLResponse<Data>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query: typeof query === 'string' ? query : print(query), variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<Data>, 'status'>;
  return { status: response.status, ...body };
}

/** A token signed by the test identity provider. */
export function testToken(
  userId: string,
  options: { admin?: boolean; expiresIn?: string | number } = {},
): Promise<string> {
  return signToken(testPrivateKey(), { userId, admin: options.admin, expiresIn: options.expiresIn ?? '1h' });
}

/**
 * Starts the whole application in this process on a free port. `options` puts a test's clock
 * in place of the process's (a `ManualClock` to move past a hold's end, see `src/app.ts`).
 */
export async function startTestApp(
  overrides: Record<string, string> = {},
  logger?: Logger,
  options?: ApplicationOptions,
): Promise<TestApp> {
  return startTestAppIn(testEnvironment(overrides), logger, options);
}

/**
 * Starts the application in this process with exactly `environment`; two apps started with
 * the same one share a database and an AMQP prefix, like two processes of one deployment.
 */
export async function startTestAppIn(
  environment: Record<string, string>,
  logger?: Logger,
  options?: ApplicationOptions,
): Promise<TestApp> {
  const config = loadConfig(environment);
  await createTestDatabase(config.database.url);
  const app = await startApplication(config, logger ?? createLogger(config.logLevel), options);
  const url = `http://127.0.0.1:${app.port}/graphql`;
  return {
    app,
    url,
    token: testToken,
    graphql: ((query: string | DocumentNode, variables?: unknown, token?: string) =>
      postGraphQL(url, query, variables, token)) as GraphQLPoster,
    stop: async () => {
      await app.stop();
      await removeTopology(config.amqp.url, app.topology);
    },
  };
}

/** Deletes a test's exchanges and queues from the broker (its prefix is its own). */
export async function removeTopology(
  url: string,
  names: Parameters<typeof deleteTopology>[1],
): Promise<void> {
  const connection = await connect(url);
  try {
    const channel = await connection.createChannel();
    await deleteTopology(channel, names);
  } finally {
    await connection.close();
  }
}

/** GraphQL helpers for a Poltrona process this test did not start in-process. */
export function remoteApp(baseUrl: string): Pick<TestApp, 'graphql' | 'token' | 'url'> {
  const url = `${baseUrl}/graphql`;
  return {
    url,
    token: testToken,
    graphql: ((query: string | DocumentNode, variables?: unknown, token?: string) =>
      postGraphQL(url, query, variables, token)) as GraphQLPoster,
  };
}

/** A user id no other test uses. */
export function uniqueUser(label = 'user'): string {
  return `${label}-${randomUUID()}`;
}
