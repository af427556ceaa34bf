import { Redis } from 'ioredis';

/**
 * A Redis client for the booking path: commands fail fast instead of queueing while Redis is
 * unreachable (no offline queue, one retry, a command timeout), and the client keeps
 * reconnecting in the background with capped backoff, so the service recovers by itself.
 */
export function createRedisClient(url: string): Redis {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1_000,
    connectTimeout: 2_000,
    retryStrategy: (attempt) => Math.min(50 * 2 ** attempt, 2_000),
  });
  // Without a listener ioredis prints every failed reconnection; callers see command errors.
  client.on('error', () => undefined);
  return client;
}
