import { type Cluster, type Redis } from 'ioredis';
import { parseInfoMemory, readRedisMemory } from './redis-memory';

const info = (used: number, max: number) =>
  `# Memory\r\nused_memory:${used}\r\nused_memory_human:1M\r\nmaxmemory:${max}\r\nmaxmemory_policy:noeviction\r\n`;

/** A client that answers `INFO memory` with `answer` (enough of ioredis's surface for the reader). */
function node(answer: string): Redis {
  return { isCluster: false, info: async () => answer } as unknown as Redis;
}

describe('readRedisMemory', () => {
  it('reads used_memory and maxmemory of a single Redis', async () => {
    expect(parseInfoMemory(info(1_000, 4_000))).toEqual({
      usedBytes: 1_000,
      maxBytes: 4_000,
      maxRatio: 0.25,
    });
    expect(await readRedisMemory(node(info(1_000, 4_000)))).toEqual({
      usedBytes: 1_000,
      maxBytes: 4_000,
      maxRatio: 0.25,
    });
  });

  it('sums the masters of a cluster; one master without a limit makes the limit 0 (unlimited)', async () => {
    const cluster = (masters: Redis[]) =>
      ({
        isCluster: true,
        nodes: (role: string) => (role === 'master' ? masters : []),
      }) as unknown as Cluster;
    expect(await readRedisMemory(cluster([node(info(100, 1_000)), node(info(200, 1_000))]))).toEqual({
      usedBytes: 300,
      maxBytes: 2_000,
      maxRatio: 0.2,
    });
    expect(await readRedisMemory(cluster([node(info(100, 1_000)), node(info(200, 0))]))).toEqual({
      usedBytes: 300,
      maxBytes: 0,
      maxRatio: 0,
    });
    await expect(readRedisMemory(cluster([]))).rejects.toThrow('No Redis master');
  });

  it('reports the fullest master, which the sums hide (one hot session fills one shard)', async () => {
    const cluster = {
      isCluster: true,
      nodes: () => [node(info(900, 1_000)), node(info(10, 1_000)), node(info(10, 1_000))],
    } as unknown as Cluster;
    const memory = await readRedisMemory(cluster);
    expect(memory.usedBytes / memory.maxBytes).toBeCloseTo(0.3067, 3);
    expect(memory.maxRatio).toBe(0.9);
  });

  it('refuses an answer without used_memory', () => {
    expect(() => parseInfoMemory('# Memory\r\n')).toThrow('used_memory');
  });
});
