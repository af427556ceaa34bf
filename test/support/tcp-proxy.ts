import { createServer, type Server, type Socket, connect } from 'node:net';
import { type AddressInfo } from 'node:net';

/** A TCP proxy to a local service that a test can cut and restore, to simulate an outage. */
export interface TcpProxy {
  readonly port: number;
  /** Drops every connection and stops accepting new ones. */
  cut(): Promise<void>;
  /** Accepts connections again, on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      if (server) {
        resolve();
        return;
      }
      server = createServer((client) => {
        const upstream = connect(targetPort, targetHost);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream).pipe(client);
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as AddressInfo).port;
        resolve();
      });
    });

  const cut = async () => {
    const current = server;
    server = null;
    for (const socket of sockets) {
      socket.destroy();
    }
    sockets.clear();
    if (current) {
      await new Promise<void>((resolve) => current.close(() => resolve()));
    }
  };

  await listen();
  return {
    get port() {
      return port;
    },
    cut,
    restore: listen,
    close: cut,
  };
}
