import { randomUUID } from 'node:crypto';
import { type Application, startApplication } from '../../src/app';
import { loadConfig } from '../../src/config';
import { signToken } from '../../src/infra/dev-keys';
import { createLogger } from '../../src/infra/logger';
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
  /** POSTs a GraphQL operation as JSON. */
  graphql<Data = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    token?: string,
  ): Promise<GraphQLResponse<Data>>;
  stop(): Promise<void>;
}

export function testPrivateKey(): string {
  const key = process.env.TEST_AUTH_PRIVATE_KEY;
  if (!key) {
    throw new Error('TEST_AUTH_PRIVATE_KEY is missing: run the tests through jest (global setup)');
  }
  return key;
}

/** Environment of a test process: the test database, a private AMQP prefix, quiet logs. */
export function testEnvironment(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: testDatabaseUrl(),
    DATABASE_POOL_SIZE: '10',
    REDIS_URL: TEST_REDIS_URL,
    AMQP_URL: TEST_AMQP_URL,
    AMQP_PREFIX: `test-${randomUUID().slice(0, 8)}`,
    AUTH_PUBLIC_KEY: process.env.TEST_AUTH_PUBLIC_KEY ?? '',
    PORT: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...overrides,
  };
}

/** Starts the whole application in this process on a free port. */
export async function startTestApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const config = loadConfig(testEnvironment(overrides));
  const app = await startApplication(config, createLogger(config.logLevel));
  const url = `http://127.0.0.1:${app.port}/graphql`;
  return {
    app,
    url,
    token: (userId, options = {}) =>
      signToken(testPrivateKey(), { userId, admin: options.admin, expiresIn: options.expiresIn ?? '1h' }),
    graphql: async (query, variables, token) => {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await response.json()) as Omit<GraphQLResponse, 'status'>;
      return { status: response.status, ...body } as GraphQLResponse<never>;
    },
    stop: () => app.stop(),
  };
}

/** A user id no other test uses. */
export function uniqueUser(label = 'user'): string {
  return `${label}-${randomUUID()}`;
}
