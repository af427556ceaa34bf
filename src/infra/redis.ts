import { Cluster, Redis } from 'ioredis';
import { type RedisTarget } from '../config/config';

/**
 * The Redis the service talks to: one server, or a Redis Cluster. Both take the same commands
 * and scripts (`defineCommand`), so callers need not know which; every key a script touches
 * must be in one hash slot (see `SeatLocks.key`), which a single server never checks and a
 * cluster does (`CROSSSLOT`).
 */
export type RedisClient = Redis | Cluster;

/** Whether `client` is a Redis Cluster client (ioredis's own flag, so test doubles can say it too). */
export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster;
}

/** Longest wait for one command, retries and redirections included, before it fails. */
const COMMAND_TIMEOUT_MILLISECONDS = 1_000;
const CONNECT_TIMEOUT_MILLISECONDS = 2_000;

/** Delay before reconnection attempt `attempt` (1, 2, …): doubling from 100 ms, capped at 2 s. */
export function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** attempt, 2_000);
}

/**
 * A Redis client for the booking path: commands fail fast instead of queueing while Redis is
 * unreachable (no offline queue, a command timeout), and the client keeps reconnecting in the
 * background with capped backoff, so the service recovers by itself. Callers treat any command
 * error as "Redis is down" and carry on without it (PostgreSQL decides; counters stay local).
 */
export function createRedisClient(target: RedisTarget): RedisClient {
  const client =
    target.kind === 'single' ? createSingleClient(target.url) : createClusterClient(target.nodes);
  // Without a listener ioredis prints every failed reconnection; callers see command errors.
  client.on('error', () => undefined);
  return client;
}

function createSingleClient(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MILLISECONDS,
    connectTimeout: CONNECT_TIMEOUT_MILLISECONDS,
    retryStrategy: reconnectDelay,
  });
}

/**
 * The cluster client fails as fast as the single one: no offline queue (a command sent while
 * the cluster is not ready fails at once), no waiting out a failover or a `CLUSTERDOWN` (the
 * request goes on through PostgreSQL; `MOVED`/`ASK` redirections still follow resharding and
 * promoted replicas), and the command timeout caps a command sent to a node that does not
 * answer. When every node is lost the client reconnects from the seeds with capped backoff, and
 * it refreshes the slot map every few seconds, so a node that comes back is used again.
 */
function createClusterClient(nodes: readonly { host: string; port: number }[]): Cluster {
  const cluster = new Cluster(
    nodes.map(({ host, port }) => ({ host, port })),
    {
      enableOfflineQueue: false,
      enableReadyCheck: true,
      clusterRetryStrategy: reconnectDelay,
      retryDelayOnFailover: 0,
      retryDelayOnClusterDown: 0,
      slotsRefreshTimeout: COMMAND_TIMEOUT_MILLISECONDS,
      slotsRefreshInterval: 2_000,
      redisOptions: {
        maxRetriesPerRequest: 1,
        commandTimeout: COMMAND_TIMEOUT_MILLISECONDS,
        connectTimeout: CONNECT_TIMEOUT_MILLISECONDS,
      },
    },
  );
  // Node connections are made lazily, by their first command, and without an offline queue
  // the commands sent to a node while it is still connecting fail: once the cluster is ready,
  // connect every node it knows, and each node it learns of later, before traffic needs them.
  // (Not before: the ready check itself must find its node idle or connected.)
  const connectIdle = (node: Redis) => {
    if (cluster.status === 'ready' && node.status === 'wait') {
      node.connect().catch(() => undefined);
    }
  };
  cluster.on('ready', () => cluster.nodes().forEach(connectIdle));
  cluster.on('+node', (node: Redis) => setImmediate(() => connectIdle(node)));
  return cluster;
}

/**
 * Whether Redis answers. A cluster counts as up only when it is ready, every slot's master is
 * connected and answers `PING`, and the cluster says its state is ok: with one master gone, the
 * keys of its slots cannot be reached (and, once the others notice, no key can).
 */
export async function redisAnswers(client: RedisClient): Promise<boolean> {
  try {
    if (isCluster(client)) {
      if (client.status !== 'ready') {
        return false;
      }
      const masters = new Map(
        client.nodes('master').map((node) => [`${node.options.host}:${node.options.port}`, node]),
      );
      // A master whose connection was lost leaves the pool at once; the cluster itself says it
      // failed only after its node timeout.
      const owners = new Set(client.slots.map((nodeKeys) => nodeKeys[0]));
      if (masters.size === 0 || [...owners].some((owner) => owner === undefined || !masters.has(owner))) {
        return false;
      }
      const [info] = await Promise.all([
        client.cluster('INFO'),
        ...[...masters.values()].map((node) => node.ping()),
      ]);
      return String(info).includes('cluster_state:ok');
    }
    await client.ping();
    return true;
  } catch {
    return false;
  }
}

/**
 * Closes the client. While Redis is unreachable, `quit()` is refused (no offline queue) and
 * the client would go on reconnecting for ever: then drop it, which also stops the timer.
 */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  await client.quit().catch(() => client.disconnect());
}
