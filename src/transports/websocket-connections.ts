import { type IncomingMessage, type Server } from 'node:http';
import { CloseCode } from 'graphql-ws';
import { WebSocket, WebSocketServer } from 'ws';
import { type Config } from '../config/config';
import { ErrorCode } from '../errors/domain-error';
import { ERROR_CODE_TABLE } from '../errors/graphql-error-formatter';
import { bearerToken, type TokenVerifier, type Viewer } from '../infra/auth';
import { type Logger } from '../infra/logger';
import { callAt } from '../infra/long-timer';
import { type Metrics } from '../infra/metrics';
import { type ClientAddressResolver } from '../security/client-address';
import { ConnectionCounter, TOO_MANY_CONNECTIONS_CLOSE_CODE } from '../security/connection-limits';
import { isOriginAllowed } from '../security/origin-policy';

/** What the connection side of the websocket transport needs. */
export interface WebsocketConnectionOptions {
  readonly path: string;
  readonly maxPayloadBytes: number;
  readonly corsOrigins: readonly string[];
  readonly clientAddress: ClientAddressResolver;
  readonly verifyToken: TokenVerifier;
  readonly websocket: Config['websocket'];
  /** Open connections per client, when shared with another transport (SSE): one cap counts both. */
  readonly connectionCounter?: ConnectionCounter;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** The connection budget a socket holds: its address's, until `connection_init` names a user. */
interface ConnectionSlot {
  key: string;
}

/** Admission of websocket connections: origins and caps at the upgrade, identity at `connection_init`. */
export interface WebsocketConnections {
  readonly server: WebSocketServer;
  /**
   * Authenticates a connection from its `connectionParams.authorization`: the caller
   * (null when anonymous), or false to refuse it (graphql-ws then closes it with 4403).
   * The socket is closed with 4401 when the token expires.
   */
  authenticate(socket: WebSocket, authorization: unknown): Promise<Viewer | null | false>;
}

/**
 * Opens the websocket server on `httpServer`. Origins are checked at the upgrade, and each
 * client holds one slot of its connection budget: per address at the upgrade, per user once
 * `connection_init` names one (many users may share one address: NAT, offices).
 */
export function openWebsocketConnections(
  httpServer: Server,
  options: WebsocketConnectionOptions,
): WebsocketConnections {
  const { logger, metrics } = options;
  const connections =
    options.connectionCounter ?? new ConnectionCounter(options.websocket.maxConnectionsPerClient);
  const addressKey = (request: IncomingMessage) => `ip:${options.clientAddress(request)}`;
  const server = new WebSocketServer({
    server: httpServer,
    path: options.path,
    maxPayload: options.maxPayloadBytes,
    verifyClient: (
      { origin, req }: { origin?: string; req: IncomingMessage },
      callback: (allowed: boolean, status?: number, message?: string) => void,
    ) => {
      if (!isOriginAllowed(origin, req.headers.host, options.corsOrigins)) {
        callback(false, 401, 'Origin not allowed');
      } else if (!connections.hasRoom(addressKey(req))) {
        callback(false, 429, 'Too many connections');
      } else {
        callback(true);
      }
    },
  });
  // Internal bookkeeping of this module: a socket's slot, released when it closes.
  const slots = new WeakMap<WebSocket, ConnectionSlot>();
  server.on('connection', (socket, request) => {
    const slot: ConnectionSlot = { key: addressKey(request) };
    // Upgrades that passed verifyClient together may still overshoot: the count decides.
    if (!connections.acquire(slot.key)) {
      socket.close(TOO_MANY_CONNECTIONS_CLOSE_CODE, 'Too many connections');
      return;
    }
    slots.set(socket, slot);
    metrics.openSockets.inc();
    // Whatever happens to the connection (even mid-handshake), its slot goes back here.
    socket.once('close', () => {
      connections.release(slot.key);
      metrics.openSockets.dec();
    });
  });

  return {
    server,
    authenticate: async (socket, authorization) => {
      let viewer: Viewer | null = null;
      if (typeof authorization === 'string') {
        try {
          const token = bearerToken(authorization);
          viewer = token ? await options.verifyToken(token) : null;
        } catch (error) {
          logger[ERROR_CODE_TABLE[ErrorCode.Unauthenticated].logLevel](
            { err: error },
            'Websocket refused: invalid token',
          );
          return false;
        }
      }
      const slot = slots.get(socket);
      // The client may have gone while its token was being verified: nothing to set up.
      if (socket.readyState !== WebSocket.OPEN || !slot) {
        return false;
      }
      if (viewer) {
        // From now on the connection counts against its user, not its address.
        const userKey = `user:${viewer.userId}`;
        if (!connections.acquire(userKey)) {
          socket.close(TOO_MANY_CONNECTIONS_CLOSE_CODE, 'Too many connections');
          return false;
        }
        connections.release(slot.key);
        slot.key = userKey;
        // Tokens always carry `exp` (the verifier requires it), however far away it is.
        const cancelExpiry = callAt(viewer.expiresAt, () =>
          socket.close(CloseCode.Unauthorized, 'Token expired'),
        );
        socket.once('close', cancelExpiry);
      }
      return viewer;
    },
  };
}
