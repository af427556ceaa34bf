import { loadConfig } from '../../src/config/config';
import { ConfigError } from '../../src/config/environment-values';

describe('configuration', () => {
  it('has working defaults for a development machine', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      role: 'all',
      database: { url: 'postgres://postgres@127.0.0.1:5432/poltrona' },
      redis: { url: 'redis://127.0.0.1:6379' },
      amqp: { url: 'amqp://guest:guest@127.0.0.1:5672', prefix: 'poltrona' },
      booking: { holdSeconds: 30 },
      auth: { key: { kind: 'devKey' } },
      corsOrigins: [],
    });
  });

  it.each([
    ['PORT', 'http'],
    ['PORT', '65536'],
    ['HOLD_SECONDS', '0'],
    ['HOLD_SECONDS', '1.5'],
    ['ROLE', 'admin'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['AMQP_URL', 'redis://x'],
    ['AMQP_PREFIX', 'has spaces'],
    ['AUTH_PUBLIC_KEY', 'not a pem'],
    ['CORS_ORIGINS', 'https://ok.example, nonsense'],
    ['LOG_LEVEL', 'loud'],
    ['TRUSTED_PROXIES', '10.0.0.1, not-an-address'],
    ['TRUSTED_PROXIES', '10.0.0.0/33'],
    ['WS_MAX_CONNECTIONS_PER_CLIENT', '0'],
    ['WS_MAX_SUBSCRIPTIONS_PER_CONNECTION', 'many'],
    ['SESSION_CACHE_MAX_BYTES', '-1'],
    ['DATABASE_POOL_ACQUIRE_TIMEOUT_MS', '20000'],
    ['GRAPHQL_MAX_SELECTIONS', '5'],
    ['DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS', '10'],
    ['OUTBOX_CONFIRM_TIMEOUT_MS', 'soon'],
    ['OUTBOX_RETENTION_HOURS', '0'],
    ['INBOX_RETENTION_HOURS', '-5'],
    ['SEAT_CHANGE_RETENTION_HOURS', '0'],
    ['SEAT_CHANGE_RETENTION_HOURS', '721'],
    ['ADMISSION_MUTATIONS_CONCURRENCY', '-1'],
    ['ADMISSION_READS_QUEUE', 'lots'],
    ['ADMISSION_QUEUE_TIMEOUT_MS', '0'],
    ['ADMISSION_QUEUE_TIMEOUT_MS', '10000'],
    ['TOKEN_CACHE_MAX_ENTRIES', '-1'],
    ['TOKEN_CACHE_MAX_AGE_SECONDS', '0'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('admits 8 mutations and 256 reads at once by default, each with as long a queue, 20 ms of wait', () => {
    expect(loadConfig({}).admission).toEqual({
      mutation: { concurrency: 8, queueLength: 8, queueTimeoutMilliseconds: 20 },
      read: { concurrency: 256, queueLength: 256, queueTimeoutMilliseconds: 20 },
    });
    expect(
      loadConfig({
        ADMISSION_MUTATIONS_CONCURRENCY: '2',
        ADMISSION_MUTATIONS_QUEUE: '0',
        ADMISSION_READS_CONCURRENCY: '0',
        ADMISSION_QUEUE_TIMEOUT_MS: '5',
      }).admission,
    ).toEqual({
      mutation: { concurrency: 2, queueLength: 0, queueTimeoutMilliseconds: 5 },
      read: { concurrency: 0, queueLength: 0, queueTimeoutMilliseconds: 5 },
    });
    // The queue wait must stay below the request timeout.
    expect(() => loadConfig({ GRAPHQL_TIMEOUT_MS: '1000', ADMISSION_QUEUE_TIMEOUT_MS: '1000' })).toThrow(
      'ADMISSION_QUEUE_TIMEOUT_MS',
    );
  });

  it('caches 10,000 verified tokens for at most 60 s by default', () => {
    expect(loadConfig({}).tokenCache).toEqual({ maxEntries: 10_000, maxAgeSeconds: 60 });
    expect(loadConfig({ TOKEN_CACHE_MAX_ENTRIES: '0' }).tokenCache.maxEntries).toBe(0);
  });

  it('keeps seat changes SEAT_CHANGE_RETENTION_HOURS, 24 by default, up to 30 days', () => {
    expect(loadConfig({}).retention).toEqual({ outboxHours: 24, inboxHours: 168, seatChangeHours: 24 });
    expect(loadConfig({ SEAT_CHANGE_RETENTION_HOURS: '720' }).retention.seatChangeHours).toBe(720);
  });

  it('caps holds at HOLD_MAX_SECONDS, never below HOLD_SECONDS', () => {
    expect(loadConfig({}).booking).toMatchObject({ holdSeconds: 30, holdMaxSeconds: 600 });
    expect(loadConfig({ HOLD_SECONDS: '60', HOLD_MAX_SECONDS: '60' }).booking).toMatchObject({
      holdSeconds: 60,
      holdMaxSeconds: 60,
    });
    // Unset, it follows a HOLD_SECONDS above its default (such holds cannot be extended).
    expect(loadConfig({ HOLD_SECONDS: '900' }).booking.holdMaxSeconds).toBe(900);
    for (const env of [
      { HOLD_SECONDS: '60', HOLD_MAX_SECONDS: '59' },
      { HOLD_MAX_SECONDS: '7201' },
      { HOLD_MAX_SECONDS: 'long' },
    ]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow('HOLD_MAX_SECONDS');
    }
  });

  it('groups up to HOLD_BATCH_MAX holds in up to HOLD_BATCH_CONCURRENCY transactions', () => {
    expect(loadConfig({}).booking.holdBatch).toEqual({ maxSize: 16, concurrency: 2 });
    expect(loadConfig({ HOLD_BATCH_MAX: '1', HOLD_BATCH_CONCURRENCY: '8' }).booking.holdBatch).toEqual({
      maxSize: 1,
      concurrency: 8,
    });
    for (const [name, value] of [
      ['HOLD_BATCH_MAX', '0'],
      ['HOLD_BATCH_MAX', '65'],
      ['HOLD_BATCH_CONCURRENCY', '0'],
      ['HOLD_BATCH_CONCURRENCY', 'many'],
    ]) {
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    }
  });

  it.each(['production', 'staging', 'preview', 'Development'])(
    'refuses to start with NODE_ENV=%s and no key, naming the variable',
    (nodeEnv) => {
      expect(() => loadConfig({ NODE_ENV: nodeEnv })).toThrow(ConfigError);
      expect(() => loadConfig({ NODE_ENV: nodeEnv })).toThrow('AUTH_PUBLIC_KEY');
    },
  );

  it.each([undefined, '', 'development', 'test'])('makes a dev key with NODE_ENV=%s', (nodeEnv) => {
    expect(loadConfig(nodeEnv === undefined ? {} : { NODE_ENV: nodeEnv }).auth.key).toEqual({
      kind: 'devKey',
    });
  });

  it('reads trusted proxies and connection caps', () => {
    const config = loadConfig({
      TRUSTED_PROXIES: '10.0.0.0/8, 192.168.1.10 ,::1, fd00::/8',
      WS_MAX_CONNECTIONS_PER_CLIENT: '5',
      WS_MAX_SUBSCRIPTIONS_PER_CONNECTION: '7',
    });
    expect(config.trustedProxies).toEqual(['10.0.0.0/8', '192.168.1.10', '::1', 'fd00::/8']);
    expect(config.websocket).toEqual({ maxConnectionsPerClient: 5, maxSubscriptionsPerConnection: 7 });
    expect(loadConfig({}).websocket).toEqual({
      maxConnectionsPerClient: 20,
      maxSubscriptionsPerConnection: 50,
    });
    expect(loadConfig({}).trustedProxies).toEqual([]);
  });

  it('requires a real key in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow('AUTH_PUBLIC_KEY');
    expect(
      loadConfig({ NODE_ENV: 'production', AUTH_JWKS_URL: 'https://id.example/jwks.json' }).auth.key,
    ).toEqual({
      kind: 'jwks',
      url: 'https://id.example/jwks.json',
    });
  });

  it('accepts a PEM with escaped newlines and normalises CORS origins', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\\nABC\\n-----END PUBLIC KEY-----';
    const config = loadConfig({
      AUTH_PUBLIC_KEY: pem,
      CORS_ORIGINS: 'https://a.example/, http://b.example:8080',
    });
    expect(config.auth.key).toEqual({
      kind: 'publicKey',
      pem: '-----BEGIN PUBLIC KEY-----\nABC\n-----END PUBLIC KEY-----',
    });
    expect(config.corsOrigins).toEqual(['https://a.example', 'http://b.example:8080']);
  });

  describe('Redis Cluster', () => {
    it('uses one Redis at REDIS_URL unless REDIS_CLUSTER_NODES is set', () => {
      expect(loadConfig({}).redis).toEqual({ kind: 'single', url: 'redis://127.0.0.1:6379' });
      expect(loadConfig({ REDIS_URL: 'rediss://cache.example:6380/2' }).redis).toEqual({
        kind: 'single',
        url: 'rediss://cache.example:6380/2',
      });
    });

    it('reads REDIS_CLUSTER_NODES as host:port seeds (names, IPv4, bracketed IPv6) and then ignores REDIS_URL', () => {
      expect(
        loadConfig({
          REDIS_CLUSTER_NODES: ' 127.0.0.1:7000, redis-1.cache.internal:7001 ,[::1]:7002',
          REDIS_URL: 'not even a url',
        }).redis,
      ).toEqual({
        kind: 'cluster',
        nodes: [
          { host: '127.0.0.1', port: 7000 },
          { host: 'redis-1.cache.internal', port: 7001 },
          { host: '::1', port: 7002 },
        ],
      });
    });

    it('reads a redis+cluster:// REDIS_URL as the same list of seeds', () => {
      expect(loadConfig({ REDIS_URL: 'redis+cluster://10.0.0.1:6379,10.0.0.2:6379/' }).redis).toEqual({
        kind: 'cluster',
        nodes: [
          { host: '10.0.0.1', port: 6379 },
          { host: '10.0.0.2', port: 6379 },
        ],
      });
    });

    it.each([
      ['REDIS_CLUSTER_NODES', '127.0.0.1'],
      ['REDIS_CLUSTER_NODES', '127.0.0.1:0'],
      ['REDIS_CLUSTER_NODES', '127.0.0.1:65536'],
      ['REDIS_CLUSTER_NODES', '127.0.0.1:7000,,127.0.0.1:7001'],
      ['REDIS_CLUSTER_NODES', '127.0.0.1:7000,'],
      ['REDIS_CLUSTER_NODES', 'redis://127.0.0.1:7000'],
      ['REDIS_CLUSTER_NODES', 'host:port'],
      ['REDIS_CLUSTER_NODES', '::1:7000'],
      ['REDIS_CLUSTER_NODES', '[not:an:address]:7000'],
      ['REDIS_CLUSTER_NODES', 'bad_host!:7000'],
      ['REDIS_URL', 'redis+cluster://'],
      ['REDIS_URL', 'redis+cluster://10.0.0.1'],
      ['REDIS_URL', 'redis+cluster://10.0.0.1:6379,10.0.0.2'],
    ])('refuses %s=%s, naming the variable', (name, value) => {
      expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value })).toThrow(name);
    });
  });
});
