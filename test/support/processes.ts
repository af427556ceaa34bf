import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createTestDatabase } from './test-databases';

/** The compiled entry points; `npm test` builds them first (pretest). */
export const DIST = join(__dirname, '..', '..', 'dist', 'src');

/** A port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Runs a compiled script to completion. */
export async function runScript(
  script: string,
  args: string[],
  env: Record<string, string>,
  cwd?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(DIST, script), ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** A running `node dist/src/main.js`, started as `npm start` would. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly baseUrl: string;
  output(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Starts `node dist/src/main.js` with `env`. A test database of this run that does not exist
 * yet is first copied from the run's migrated template (the process then finds nothing to
 * migrate); any other database is left to the process, which creates and migrates it.
 */
export async function startService(env: Record<string, string>, cwd?: string): Promise<ServiceProcess> {
  if (env.DATABASE_URL) {
    await createTestDatabase(env.DATABASE_URL);
  }
  const port = await freePort();
  const child = spawn(process.execPath, [join(DIST, 'main.js')], {
    env: { PATH: process.env.PATH ?? '', ...env, PORT: String(port) },
    cwd,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');
  const baseUrl = `http://127.0.0.1:${port}`;
  for (let attempt = 0; ; attempt += 1) {
    if (child.exitCode !== null) {
      throw new Error(`service exited early:\n${output}`);
    }
    try {
      if ((await fetch(`${baseUrl}/healthz`)).ok) {
        break;
      }
    } catch {
      // not listening yet
    }
    if (attempt > 200) {
      child.kill('SIGKILL');
      throw new Error(`service did not start:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    child,
    baseUrl,
    output: () => output,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) {
        child.kill(signal);
      }
      const [code] = (await exited) as [number | null];
      return code;
    },
  };
}
