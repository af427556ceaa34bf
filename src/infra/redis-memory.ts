import { isCluster, type RedisClient } from './redis';

/** Memory of a Redis deployment, from `INFO memory` of each master. */
export interface RedisMemory {
  /** `used_memory` in bytes. */
  readonly usedBytes: number;
  /**
   * `maxmemory` in bytes; 0 when any master has no limit (`maxmemory 0`: Redis then grows until
   * the host runs out, and a usage ratio means nothing).
   */
  readonly maxBytes: number;
  /**
   * The largest `used_memory / maxmemory` among the masters (a single Redis: its own): the keys
   * of a hot session all live on one master, so a full shard hides in the sums. 0 when any
   * master has no limit.
   */
  readonly maxRatio: number;
}

/**
 * Reads `INFO memory` of a single Redis, or of every master of a Redis Cluster
 * (`client.nodes('master')`), and sums them. Works with either client type. Each `INFO` is
 * one command on the client's existing connection, so its command timeout and offline queue
 * settings apply: with Redis down this fails fast (callers report nothing).
 */
export async function readRedisMemory(client: RedisClient): Promise<RedisMemory> {
  const nodes = isCluster(client) ? client.nodes('master') : [client];
  if (nodes.length === 0) {
    throw new Error('No Redis master known');
  }
  const infos = await Promise.all(nodes.map((node) => node.info('memory')));
  let usedBytes = 0;
  let maxBytes = 0;
  let maxRatio = 0;
  let unbounded = false;
  for (const info of infos) {
    const memory = parseInfoMemory(info);
    usedBytes += memory.usedBytes;
    maxBytes += memory.maxBytes;
    unbounded ||= memory.maxBytes === 0;
    maxRatio = Math.max(maxRatio, memory.maxRatio);
  }
  return unbounded ? { usedBytes, maxBytes: 0, maxRatio: 0 } : { usedBytes, maxBytes, maxRatio };
}

/** `used_memory` and `maxmemory` of one `INFO memory` answer, and their ratio. @throws Error when missing */
export function parseInfoMemory(info: string): RedisMemory {
  const fields = new Map<string, string>();
  for (const line of info.split(/\r?\n/)) {
    const separator = line.indexOf(':');
    if (separator > 0 && !line.startsWith('#')) {
      fields.set(line.slice(0, separator), line.slice(separator + 1).trim());
    }
  }
  const usedBytes = Number(fields.get('used_memory'));
  const maxBytes = Number(fields.get('maxmemory') ?? 0);
  if (!Number.isFinite(usedBytes) || !Number.isFinite(maxBytes)) {
    throw new Error('INFO memory without used_memory / maxmemory');
  }
  return { usedBytes, maxBytes, maxRatio: maxBytes === 0 ? 0 : usedBytes / maxBytes };
}
