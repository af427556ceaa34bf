import { type AddressInfo, createServer, type Socket } from 'node:net';

/** A local TCP server that accepts connections and never answers: a dependency that hangs. */
export interface SilentServer {
  readonly port: number;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Drops every connection and stops listening. */
  close(): Promise<void>;
}

/**
 * Starts a {@link SilentServer} on a free port of 127.0.0.1. Unlike a closed port (refused at
 * once), a client talking to it waits for an answer that never comes, so whatever waits on it
 * without a bound of its own hangs, and a test's guard against hanging fails.
 */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let connections = 0;
  const server = createServer((socket) => {
    connections += 1;
    sockets.add(socket);
    // Reads what the client sends (so its writes never block) and says nothing.
    socket.on('data', () => undefined);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return connections;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) {
          socket.destroy();
        }
        server.close(() => resolve());
      }),
  };
}
