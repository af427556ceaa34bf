import { isIP } from 'node:net';
import {
  boolean,
  ConfigError,
  type Environment,
  integer,
  optionalText,
  text,
  url,
} from './environment-values';

/**
 * Typed, validated configuration, read once from the environment.
 *
 * Every variable is documented in `.env.example` and the README. A bad value stops the
 * process at start with a {@link ConfigError} naming the variable.
 */

/** A `host:port` seed of a Redis Cluster. */
export interface RedisClusterNode {
  readonly host: string;
  readonly port: number;
}

/**
 * One Redis (`REDIS_URL`), or a Redis Cluster reached through its seed nodes
 * (`REDIS_CLUSTER_NODES`, or a `redis+cluster://host:port,host:port` REDIS_URL).
 */
export type RedisTarget =
  | { readonly kind: 'single'; readonly url: string }
  | { readonly kind: 'cluster'; readonly nodes: readonly RedisClusterNode[] };

/** Which parts of Poltrona a process runs. */
export type Role = 'api' | 'worker' | 'all';

/** How bearer tokens are verified. */
export type AuthKeySource =
  { kind: 'publicKey'; pem: string } | { kind: 'jwks'; url: string } | { kind: 'devKey' };

export interface Config {
  readonly nodeEnv: string;
  readonly logLevel: string;
  readonly port: number;
  readonly role: Role;
  readonly database: {
    readonly url: string;
    readonly poolSize: number;
    readonly statementTimeoutMilliseconds: number;
    readonly lockTimeoutMilliseconds: number;
    /** Longest wait for a free pooled connection; below the request timeout. */
    readonly poolAcquireTimeoutMilliseconds: number;
    /** A connection left idle inside an open transaction this long is ended by PostgreSQL. */
    readonly idleInTransactionTimeoutMilliseconds: number;
  };
  /** Where seat locks and rate-limit counters live: one Redis, or the seeds of a Redis Cluster. */
  readonly redis: RedisTarget;
  readonly amqp: {
    readonly url: string;
    readonly prefix: string;
    /** Longest wait for the broker to confirm a batch of published outbox rows. */
    readonly confirmTimeoutMilliseconds: number;
  };
  /** How long handled messages are remembered before the worker prunes them. */
  readonly retention: {
    /** Published outbox rows. */
    readonly outboxHours: number;
    /** Inbox rows (ids of consumed messages): must outlast any redelivery. */
    readonly inboxHours: number;
    /**
     * Seat changes, replayable for `afterMapVersion` this long; the newest 10,000 of each
     * session are kept whatever their age.
     */
    readonly seatChangeHours: number;
  };
  readonly booking: {
    readonly holdSeconds: number;
    /** The longest a reservation may be held in all, extensions included (at least `holdSeconds`). */
    readonly holdMaxSeconds: number;
    /**
     * Group commit of holds: concurrent reserves (without an idempotency key or the gap rule)
     * share one transaction, at most `maxSize` of them (1: each its own), in at most
     * `concurrency` transactions at once.
     */
    readonly holdBatch: { readonly maxSize: number; readonly concurrency: number };
  };
  readonly auth: {
    readonly key: AuthKeySource;
    readonly issuer?: string;
    readonly audience?: string;
    /** Least time between two JWKS fetches caused by unknown key ids. */
    readonly jwksCooldownSeconds: number;
  };
  /** Limits every operation must fit in, over HTTP and websocket alike. */
  readonly limits: {
    readonly maxDepth: number;
    readonly maxAliases: number;
    readonly maxCost: number;
    readonly maxTokens: number;
    /** Field selections and fragment spreads in one document, checked before validation. */
    readonly maxSelections: number;
    readonly maxBodyBytes: number;
    readonly executionTimeoutMilliseconds: number;
    readonly introspection: boolean;
  };
  readonly rateLimit: { readonly mutationsPerMinute: number; readonly readsPerMinute: number };
  readonly corsOrigins: readonly string[];
  /**
   * Load balancers whose `X-Forwarded-For` names the client: addresses (`10.0.0.1`) and CIDRs
   * (`10.0.0.0/8`). Empty: the socket address is the client.
   */
  readonly trustedProxies: readonly string[];
  /** Caps on long-lived connections (websocket and SSE). */
  readonly websocket: {
    readonly maxConnectionsPerClient: number;
    readonly maxSubscriptionsPerConnection: number;
  };
  /** Reuse of public session query results (seat maps); a max age of 0 turns it off. */
  readonly sessionCache: { readonly maxAgeMilliseconds: number; readonly maxBytes: number };
  /** Testing only: fault injection. */
  readonly faults: { readonly ackDelayMilliseconds: number };
  /** Admission control (overload): operations of each class running at once, and their queue. */
  readonly admission: {
    readonly mutation: AdmissionClassLimits;
    readonly read: AdmissionClassLimits;
  };
  /** Verified bearer tokens remembered per process; 0 entries turns it off. */
  readonly tokenCache: { readonly maxEntries: number; readonly maxAgeSeconds: number };
}

/** One class of admission control; a concurrency of 0 turns it off. */
export interface AdmissionClassLimits {
  readonly concurrency: number;
  readonly queueLength: number;
  readonly queueTimeoutMilliseconds: number;
}

/** Default of `HOLD_MAX_SECONDS`, unless `HOLD_SECONDS` is longer (then it is the default). */
const DEFAULT_HOLD_MAX_SECONDS = 600;

function booking(env: Environment): Config['booking'] {
  const holdSeconds = integer(env, 'HOLD_SECONDS', 30, 1, 3600);
  // Unset, the cap never falls below the hold itself, so a deployment that only raised
  // HOLD_SECONDS past 600 keeps starting (its holds simply cannot be extended).
  const holdMaxSeconds = integer(
    env,
    'HOLD_MAX_SECONDS',
    Math.max(DEFAULT_HOLD_MAX_SECONDS, holdSeconds),
    1,
    7200,
  );
  if (holdMaxSeconds < holdSeconds) {
    throw new ConfigError(
      'HOLD_MAX_SECONDS',
      `must be at least HOLD_SECONDS (${holdSeconds}), got ${holdMaxSeconds}`,
    );
  }
  return {
    holdSeconds,
    holdMaxSeconds,
    holdBatch: {
      maxSize: integer(env, 'HOLD_BATCH_MAX', 16, 1, 64),
      concurrency: integer(env, 'HOLD_BATCH_CONCURRENCY', 2, 1, 64),
    },
  };
}

function role(env: Environment): Role {
  const value = text(env, 'ROLE', 'all');
  if (value !== 'api' && value !== 'worker' && value !== 'all') {
    throw new ConfigError('ROLE', `must be api, worker or all, got "${value}"`);
  }
  return value;
}

function authKey(env: Environment, nodeEnv: string): AuthKeySource {
  const pem = optionalText(env, 'AUTH_PUBLIC_KEY');
  const jwksUrl = optionalText(env, 'AUTH_JWKS_URL');
  if (pem !== undefined && jwksUrl !== undefined) {
    throw new ConfigError('AUTH_PUBLIC_KEY', 'and AUTH_JWKS_URL are both set; set only one');
  }
  if (pem !== undefined) {
    // Environments often carry PEMs with literal "\n" sequences instead of newlines.
    const normalised = pem.replace(/\\n/g, '\n');
    if (!normalised.includes('-----BEGIN PUBLIC KEY-----')) {
      throw new ConfigError('AUTH_PUBLIC_KEY', 'must be an RS256 public key in PEM (SPKI) format');
    }
    return { kind: 'publicKey', pem: normalised };
  }
  if (jwksUrl !== undefined) {
    return { kind: 'jwks', url: url(env, 'AUTH_JWKS_URL', jwksUrl, ['http:', 'https:']) };
  }
  if (!DEV_KEY_ENVIRONMENTS.has(nodeEnv)) {
    throw new ConfigError(
      'AUTH_PUBLIC_KEY',
      `or AUTH_JWKS_URL is required when NODE_ENV=${nodeEnv} (a dev key is made only for development or test)`,
    );
  }
  return { kind: 'devKey' };
}

/** The only `NODE_ENV`s in which a missing auth key means "make a local dev key pair". */
const DEV_KEY_ENVIRONMENTS: ReadonlySet<string> = new Set(['development', 'test']);

/** Whether `entry` is an IP address or a CIDR block (`address/prefix`). */
function isAddressOrCidr(entry: string): boolean {
  const [address, prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) {
    return false;
  }
  if (prefix === undefined) {
    return true;
  }
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

function trustedProxies(env: Environment): string[] {
  const raw = optionalText(env, 'TRUSTED_PROXIES');
  if (raw === undefined) {
    return [];
  }
  return raw.split(',').map((entry) => {
    const trimmed = entry.trim();
    if (!isAddressOrCidr(trimmed)) {
      throw new ConfigError(
        'TRUSTED_PROXIES',
        `contains "${trimmed}", which is not an address or CIDR block`,
      );
    }
    return trimmed;
  });
}

function origins(env: Environment): string[] {
  const raw = optionalText(env, 'CORS_ORIGINS');
  if (raw === undefined) {
    return [];
  }
  return raw.split(',').map((origin) => {
    const trimmed = origin.trim();
    try {
      return new URL(trimmed).origin;
    } catch {
      throw new ConfigError('CORS_ORIGINS', `contains an invalid origin "${trimmed}"`);
    }
  });
}

const CLUSTER_URL_SCHEME = 'redis+cluster://';

/**
 * `host:port` entries separated by commas: a host name or IPv4 address, or an IPv6 address in
 * brackets (`[::1]:7000`), and a port from 1 to 65535. Refuses an empty list or entry.
 */
function clusterNodes(name: string, raw: string): RedisClusterNode[] {
  return raw.split(',').map((entry) => {
    const trimmed = entry.trim();
    const match = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})?)):(\d{1,5})$/.exec(trimmed);
    const host = match?.[1] ?? match?.[2];
    const port = Number(match?.[3]);
    if (
      host === undefined ||
      (match?.[1] !== undefined && isIP(host) !== 6) ||
      !Number.isInteger(port) ||
      port < 1 ||
      port > 65535
    ) {
      throw new ConfigError(
        name,
        `contains "${trimmed}", which is not host:port (a host name or address, and a port from 1 to 65535)`,
      );
    }
    return { host, port };
  });
}

/**
 * `REDIS_CLUSTER_NODES` when set (then `REDIS_URL` is not read), else `REDIS_URL`: a
 * `redis://`/`rediss://` URL, or `redis+cluster://host:port,host:port` for a cluster.
 */
function redisTarget(env: Environment): RedisTarget {
  const seeds = optionalText(env, 'REDIS_CLUSTER_NODES');
  if (seeds !== undefined) {
    return { kind: 'cluster', nodes: clusterNodes('REDIS_CLUSTER_NODES', seeds) };
  }
  const redisUrl = text(env, 'REDIS_URL', 'redis://127.0.0.1:6379');
  if (redisUrl.toLowerCase().startsWith(CLUSTER_URL_SCHEME)) {
    const nodes = redisUrl.slice(CLUSTER_URL_SCHEME.length).replace(/\/$/, '');
    return { kind: 'cluster', nodes: clusterNodes('REDIS_URL', nodes) };
  }
  return { kind: 'single', url: url(env, 'REDIS_URL', redisUrl, ['redis:', 'rediss:']) };
}

/** `value` of `name`, refused unless it is below `limit` (the request timeout). */
function below(name: string, value: number, limit: number): number {
  if (value >= limit) {
    throw new ConfigError(name, `must be below GRAPHQL_TIMEOUT_MS (${limit}), got ${value}`);
  }
  return value;
}

// ---- Admission control and the token cache (issue 16) ----

/**
 * `ADMISSION_<CLASS>_CONCURRENCY` (0: off) and `ADMISSION_<CLASS>_QUEUE` (default: as many as
 * run at once) for mutations and reads; `ADMISSION_QUEUE_TIMEOUT_MS`, the longest wait for a
 * slot, must stay below the request timeout.
 */
function admission(env: Environment, executionTimeoutMilliseconds: number): Config['admission'] {
  const queueTimeoutMilliseconds = below(
    'ADMISSION_QUEUE_TIMEOUT_MS',
    integer(env, 'ADMISSION_QUEUE_TIMEOUT_MS', 20, 1, 600_000),
    executionTimeoutMilliseconds,
  );
  const lane = (prefix: string, defaultConcurrency: number): AdmissionClassLimits => {
    const concurrency = integer(env, `${prefix}_CONCURRENCY`, defaultConcurrency, 0, 100_000);
    return {
      concurrency,
      queueLength: integer(env, `${prefix}_QUEUE`, concurrency, 0, 100_000),
      queueTimeoutMilliseconds,
    };
  };
  return {
    mutation: lane('ADMISSION_MUTATIONS', 8),
    read: lane('ADMISSION_READS', 256),
  };
}

function tokenCache(env: Environment): Config['tokenCache'] {
  return {
    maxEntries: integer(env, 'TOKEN_CACHE_MAX_ENTRIES', 10_000, 0, 1_000_000),
    maxAgeSeconds: integer(env, 'TOKEN_CACHE_MAX_AGE_SECONDS', 60, 1, 86_400),
  };
}

/** Reads and validates the configuration from `env` (defaults to `process.env`). */
export function loadConfig(env: Environment = process.env): Config {
  const nodeEnv = text(env, 'NODE_ENV', 'development');
  const executionTimeoutMilliseconds = integer(env, 'GRAPHQL_TIMEOUT_MS', 10_000, 100, 600_000);
  const prefix = text(env, 'AMQP_PREFIX', 'poltrona');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(prefix)) {
    throw new ConfigError('AMQP_PREFIX', 'may hold only letters, digits, ".", "_" and "-"');
  }
  const logLevel = text(env, 'LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `must be one of fatal, error, warn, info, debug, trace, silent`);
  }
  return {
    nodeEnv,
    logLevel,
    port: integer(env, 'PORT', 4000, 0, 65535),
    role: role(env),
    database: {
      url: url(env, 'DATABASE_URL', 'postgres://postgres@127.0.0.1:5432/poltrona', [
        'postgres:',
        'postgresql:',
      ]),
      poolSize: integer(env, 'DATABASE_POOL_SIZE', 20, 1, 500),
      statementTimeoutMilliseconds: integer(env, 'DATABASE_STATEMENT_TIMEOUT_MS', 5_000, 100, 600_000),
      lockTimeoutMilliseconds: integer(env, 'DATABASE_LOCK_TIMEOUT_MS', 3_000, 100, 600_000),
      poolAcquireTimeoutMilliseconds: below(
        'DATABASE_POOL_ACQUIRE_TIMEOUT_MS',
        integer(
          env,
          'DATABASE_POOL_ACQUIRE_TIMEOUT_MS',
          Math.min(2_000, executionTimeoutMilliseconds / 2),
          10,
          600_000,
        ),
        executionTimeoutMilliseconds,
      ),
      idleInTransactionTimeoutMilliseconds: integer(
        env,
        'DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS',
        30_000,
        1_000,
        3_600_000,
      ),
    },
    redis: redisTarget(env),
    amqp: {
      url: url(env, 'AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672', ['amqp:', 'amqps:']),
      prefix,
      confirmTimeoutMilliseconds: integer(env, 'OUTBOX_CONFIRM_TIMEOUT_MS', 5_000, 100, 600_000),
    },
    retention: {
      outboxHours: integer(env, 'OUTBOX_RETENTION_HOURS', 24, 1, 24 * 365),
      inboxHours: integer(env, 'INBOX_RETENTION_HOURS', 168, 1, 24 * 365),
      seatChangeHours: integer(env, 'SEAT_CHANGE_RETENTION_HOURS', 24, 1, 24 * 30),
    },
    booking: booking(env),
    auth: {
      key: authKey(env, nodeEnv),
      issuer: optionalText(env, 'AUTH_ISSUER'),
      audience: optionalText(env, 'AUTH_AUDIENCE'),
      jwksCooldownSeconds: integer(env, 'AUTH_JWKS_COOLDOWN_SECONDS', 30, 0, 3_600),
    },
    limits: {
      maxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', 10, 2, 100),
      maxAliases: integer(env, 'GRAPHQL_MAX_ALIASES', 15, 0, 1_000),
      maxCost: integer(env, 'GRAPHQL_MAX_COST', 25_000, 10, 10_000_000),
      maxTokens: integer(env, 'GRAPHQL_MAX_TOKENS', 5_000, 50, 1_000_000),
      maxSelections: integer(env, 'GRAPHQL_MAX_SELECTIONS', 300, 10, 100_000),
      maxBodyBytes: integer(env, 'MAX_BODY_BYTES', 64 * 1_024, 1_024, 10 * 1_024 * 1_024),
      executionTimeoutMilliseconds,
      introspection: boolean(env, 'GRAPHQL_INTROSPECTION', DEV_KEY_ENVIRONMENTS.has(nodeEnv)),
    },
    rateLimit: {
      mutationsPerMinute: integer(env, 'RATE_LIMIT_MUTATIONS_PER_MINUTE', 60, 1, 1_000_000),
      readsPerMinute: integer(env, 'RATE_LIMIT_READS_PER_MINUTE', 600, 1, 1_000_000),
    },
    corsOrigins: origins(env),
    trustedProxies: trustedProxies(env),
    websocket: {
      maxConnectionsPerClient: integer(env, 'WS_MAX_CONNECTIONS_PER_CLIENT', 20, 1, 100_000),
      maxSubscriptionsPerConnection: integer(env, 'WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', 50, 1, 10_000),
    },
    sessionCache: {
      maxAgeMilliseconds: integer(env, 'SESSION_CACHE_MAX_AGE_MS', 1_000, 0, 60_000),
      maxBytes: integer(env, 'SESSION_CACHE_MAX_BYTES', 64 * 1_024 * 1_024, 1_024, 4 * 1_024 * 1_024 * 1_024),
    },
    faults: { ackDelayMilliseconds: integer(env, 'FAULT_ACK_DELAY_MS', 0, 0, 600_000) },
    admission: admission(env, executionTimeoutMilliseconds),
    tokenCache: tokenCache(env),
  };
}
