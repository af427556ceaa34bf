import { Cluster, Redis } from 'ioredis';
import { createRedisClient, reconnectDelay } from './redis';

describe('Redis client', () => {
  it('backs off reconnections from 100 ms, doubling, capped at 2 s', () => {
    expect([1, 2, 3, 4, 5, 6].map(reconnectDelay)).toEqual([100, 200, 400, 800, 1_600, 2_000]);
    expect(reconnectDelay(1_000)).toBe(2_000);
  });

  it('makes a single-node client for a URL and a cluster client for seeds', () => {
    const single = createRedisClient({ kind: 'single', url: 'redis://127.0.0.1:1' });
    const cluster = createRedisClient({ kind: 'cluster', nodes: [{ host: '127.0.0.1', port: 1 }] });
    try {
      expect(single).toBeInstanceOf(Redis);
      expect(cluster).toBeInstanceOf(Cluster);
    } finally {
      single.disconnect();
      cluster.disconnect();
    }
  });
});
