import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './processes';
import { eventually } from './wait';

const run = promisify(execFile);

/** A real Redis Cluster of three masters on free local ports, for one test file. */
export interface LocalRedisCluster {
  /** The ports of the three masters. */
  readonly ports: readonly number[];
  /** `REDIS_CLUSTER_NODES` for it: `127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3`. */
  readonly seeds: string;
  /** Runs `redis-cli -p port args…` and returns its output. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The port of the master serving `key`'s hash slot. */
  ownerOf(key: string): Promise<number>;
  /** Stops the node on `port` (SIGTERM) and waits for its process to end. */
  stopNode(port: number): Promise<void>;
  /**
   * Starts a stopped node again (same port and node file) and waits until it answers; see
   * {@link waitUntilHealthy} for the cluster as a whole.
   */
  startNode(port: number): Promise<void>;
  /** Waits until every running node says `cluster_state:ok` and knows all 16384 slots. */
  waitUntilHealthy(): Promise<void>;
  /** Stops every node this module started and removes their directory. */
  stop(): Promise<void>;
}

/** Whether `port` (a cluster bus port, which must be the node's port + 10000) can be bound on 127.0.0.1 now. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/**
 * `count` free ports ({@link freePort}, the system's choice), each below 55536 with its
 * cluster bus port (port + 10000) free too, which the system's choice does not promise.
 */
async function freeClusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count; attempt += 1) {
    if (attempt > 500) {
      throw new Error('No free ports for a local Redis Cluster');
    }
    const port = await freePort();
    if (port < 55_536 && !ports.includes(port) && (await portIsFree(port + 10_000))) {
      ports.push(port);
    }
  }
  return ports;
}

/**
 * Starts three `redis-server --cluster-enabled yes` processes in a directory of their own,
 * joins them with `redis-cli --cluster create` (no replicas) and waits until every node says
 * the cluster is ok. Fails, never skips, when `redis-server` or `redis-cli` cannot run.
 *
 * The nodes run with `cluster-require-full-coverage no`, so with one master stopped the others
 * go on serving their own slots (and a test can tell that Poltrona still uses them). The nodes
 * are killed (SIGKILL) when this process exits without {@link LocalRedisCluster.stop}, so a
 * jest worker that dies leaves no `redis-server` behind.
 */
export async function startRedisCluster(): Promise<LocalRedisCluster> {
  const directory = await mkdtemp(join(tmpdir(), 'poltrona-redis-cluster-'));
  const ports = await freeClusterPorts(3);
  const processes = new Map<number, ChildProcess>();
  const killAll = () => {
    for (const child of processes.values()) {
      child.kill('SIGKILL');
    }
  };
  process.once('exit', killAll);

  const cli = async (port: number, ...args: string[]): Promise<string> => {
    const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
      timeout: 10_000,
    });
    return stdout;
  };

  const startNode = async (port: number): Promise<void> => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(directory, `nodes-${port}.conf`),
        '--cluster-node-timeout',
        '2000',
        '--cluster-require-full-coverage',
        'no',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        directory,
        '--logfile',
        join(directory, `redis-${port}.log`),
      ],
      { stdio: 'ignore' },
    );
    processes.set(port, child);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (error) => reject(new Error(`Cannot start redis-server: ${error.message}`)));
    });
    await eventually(
      async () => child.exitCode === null && (await cli(port, 'PING').catch(() => '')).trim() === 'PONG',
      15_000,
      `redis-server on port ${port} to answer`,
    );
  };

  const stopNode = async (port: number): Promise<void> => {
    const child = processes.get(port);
    processes.delete(port);
    if (!child || child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };

  const waitUntilHealthy = async (): Promise<void> => {
    await eventually(
      async () => {
        for (const port of processes.keys()) {
          const info = await cli(port, 'CLUSTER', 'INFO').catch(() => '');
          if (!info.includes('cluster_state:ok') || !info.includes('cluster_slots_ok:16384')) {
            return false;
          }
        }
        return true;
      },
      30_000,
      'the local Redis Cluster to be ok on every node',
    );
  };

  const stop = async (): Promise<void> => {
    await Promise.all([...processes.keys()].map(stopNode));
    process.off('exit', killAll);
    await rm(directory, { recursive: true, force: true });
  };

  try {
    for (const port of ports) {
      await startNode(port);
    }
    await run(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...ports.map((port) => `127.0.0.1:${port}`),
        '--cluster-replicas',
        '0',
        '--cluster-yes',
      ],
      { timeout: 30_000 },
    );
    await waitUntilHealthy();
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    ports,
    seeds: ports.map((port) => `127.0.0.1:${port}`).join(','),
    cli,
    ownerOf: async (key) => {
      // A node answers a key of another node's slot with `MOVED <slot> <host>:<port>`.
      const [port] = [...processes.keys()];
      const moved = /^MOVED \d+ [^:\s]+:(\d+)/.exec((await cli(port, 'EXISTS', key)).trim());
      return moved ? Number(moved[1]) : port;
    },
    stopNode,
    startNode,
    waitUntilHealthy,
    stop,
  };
}
