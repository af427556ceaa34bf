import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import {
  type DocumentNode,
  type ExecutionArgs,
  getOperationAST,
  getVariableValues,
  GraphQLError,
  type GraphQLSchema,
  type OperationDefinitionNode,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  validate,
} from 'graphql';
import { CloseCode } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import { type Config } from './config';
import { type Context, type ContextFactory } from './context';
import { createErrorFormatter } from './errors/graphql-error-formatter';
import { bearerToken, type TokenVerifier, type Viewer } from './infra/auth';
import { type Logger } from './infra/logger';
import { type Metrics } from './infra/metrics';
import { isOriginAllowed } from './security/origin-policy';
import { type ClientAddressResolver } from './security/client-address';
import { ConnectionCounter, TOO_MANY_CONNECTIONS_CLOSE_CODE } from './security/connection-limits';
import { callAt } from './infra/long-timer';
import { DomainError, ErrorCode } from './errors/domain-error';
import { ERROR_CODE_TABLE, refusalResponse, requestRefusal } from './errors/graphql-error-formatter';
import { SharedSubscriptions, type SubscriberSink } from './events/shared-subscriptions';
import { type SessionReadCache, sessionReadCachePlugin } from './caching/session-read-cache';
import { executionTimeout, requestDeadlineOf } from './security/execution-timeout';
import { type RequestGuard } from './security/request-guard';
import { checkDocumentSize, checkDocumentSourceSize, rootFields } from './security/operation-limits';
import { mountGraphQLIde } from './web/graphql-ide';
import { type DevTokenIssuer, mountSeatMapPage } from './web/seat-map-page';

/**
 * Whether each dependency answered. The process is ready while PostgreSQL answers: without
 * Redis or RabbitMQ bookings keep working (degraded mode), so an orchestrator must not pull it.
 */
export interface DependencyHealth {
  readonly postgres: boolean;
  readonly redis: boolean;
  readonly rabbitmq: boolean;
}

export interface GraphQLEndpointOptions {
  readonly schema: GraphQLSchema;
  readonly createContext: ContextFactory;
  readonly verifyToken: TokenVerifier;
  readonly guard: RequestGuard;
  readonly limits: Config['limits'];
  readonly corsOrigins: readonly string[];
  /** Who sent a request (`TRUSTED_PROXIES`): rate limits and connection caps count per client. */
  readonly clientAddress: ClientAddressResolver;
  /** Caps on websocket connections per client and subscriptions per connection. */
  readonly websocket: Config['websocket'];
  /** Serves repeated public session queries (seat maps) without executing them. */
  readonly sessionCache: SessionReadCache;
  /** With the dev key only: lets the demo page mint tokens. */
  readonly issueDevToken?: DevTokenIssuer;
}

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly health: () => Promise<DependencyHealth>;
  /** Absent for `ROLE=worker`: then only the health endpoints are served. */
  readonly graphql?: GraphQLEndpointOptions;
}

/** The HTTP side of a process: health endpoints and, unless a worker, GraphQL over HTTP and websocket. */
export interface HttpServer {
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number): Promise<number>;
  /** Stops accepting, drains in-flight requests and closes websockets. */
  close(): Promise<void>;
}

export const GRAPHQL_PATH = '/graphql';

/** The caller's `x-request-id` when it looks like one, else a new id. */
function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
}

/** Answers a refusal made before GraphQL runs, with the error table's status and code. */
function refuse(response: express.Response, code: ErrorCode, message: string): void {
  const { status, body } = refusalResponse(new DomainError(code, message));
  response.status(status).json(body);
}

const OUTCOMES: ReadonlySet<string> = new Set(
  Object.values(ERROR_CODE_TABLE).map((row) => row.extensionCode),
);

/**
 * The root field an operation runs, as a metric label: a name from the schema, `multiple` or
 * `none`; never text the client chose (operation names and unknown fields stay out of labels).
 */
function rootFieldLabel(
  schema: GraphQLSchema,
  document: DocumentNode | undefined,
  operation: OperationDefinitionNode | undefined | null,
): string {
  if (!document || !operation) {
    return 'none';
  }
  const names = new Set(rootFields(document, operation).values());
  if (names.size !== 1) {
    return names.size === 0 ? 'none' : 'multiple';
  }
  const [name] = names;
  const known = schema.getRootType(operation.operation)?.getFields() ?? {};
  return name === '__typename' || Object.hasOwn(known, name) ? name : 'none';
}

export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { logger } = options;
  const app = express();
  app.disable('x-powered-by');
  const httpServer: Server = createServer(app);

  // Liveness: 200 while the process runs; the body says how well it can serve.
  app.get('/healthz', async (_request, response) => {
    const checks = await options.health();
    const status = !checks.postgres ? 'unavailable' : checks.redis && checks.rabbitmq ? 'ok' : 'degraded';
    response.json({ status, checks });
  });
  // Readiness: only PostgreSQL decides (see DependencyHealth).
  app.get('/readyz', async (_request, response) => {
    const checks = await options.health();
    response
      .status(checks.postgres ? 200 : 503)
      .json({ status: checks.postgres ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_request, response) => {
    response.setHeader('content-type', options.metrics.registry.contentType);
    response.end(await options.metrics.registry.metrics());
  });

  let apollo: ApolloServer<Context> | null = null;
  if (options.graphql) {
    const endpoint = options.graphql;
    const formatError = createErrorFormatter((error) =>
      logger.error({ err: error }, 'Unexpected GraphQL error'),
    );
    if (endpoint.limits.introspection) {
      // Developer surfaces go with introspection: off in production unless enabled.
      mountGraphQLIde(app, GRAPHQL_PATH);
      mountSeatMapPage(app, endpoint.issueDevToken);
    }
    const disposeWebsockets = serveWebsockets(httpServer, endpoint, formatError, logger, options.metrics);

    apollo = new ApolloServer<Context>({
      schema: endpoint.schema,
      formatError,
      introspection: endpoint.limits.introspection,
      csrfPrevention: true,
      allowBatchedHttpRequests: false,
      stringifyResult: endpoint.sessionCache.stringifyResult,
      parseOptions: { maxTokens: endpoint.limits.maxTokens },
      plugins: [
        ApolloServerPluginDrainHttpServer({ httpServer }),
        ApolloServerPluginLandingPageDisabled(),
        // We send no cache hints; the default cache-control plugin would wrap every field resolver.
        ApolloServerPluginCacheControlDisabled(),
        { serverWillStart: async () => ({ drainServer: disposeWebsockets }) },
        {
          // One log line and one latency sample per operation; never the token.
          requestDidStart: async ({ contextValue }) => {
            const started = process.hrtime.bigint();
            return {
              willSendResponse: async ({ document, operation, operationName, response, errors }) => {
                const seconds = Number(process.hrtime.bigint() - started) / 1e9;
                const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
                // The formatted errors carry the contract's codes; raw ones are a fallback.
                const code = (body?.errors?.[0] ?? errors?.[0])?.extensions?.code;
                const outcome =
                  typeof code === 'string'
                    ? OUTCOMES.has(code)
                      ? code
                      : 'INTERNAL_SERVER_ERROR'
                    : errors?.length
                      ? 'INTERNAL_SERVER_ERROR'
                      : 'ok';
                // Labels from closed sets only: client text would grow the series without bound.
                options.metrics.operationDuration.observe(
                  {
                    field: rootFieldLabel(endpoint.schema, document, operation),
                    type: operation?.operation ?? 'none',
                    outcome,
                  },
                  seconds,
                );
                logger.info(
                  {
                    requestId: contextValue.requestId,
                    // Client text: bounded, so a 64 KB name cannot swell every log line.
                    operationName: (operationName ?? 'anonymous').slice(0, 100),
                    operationType: operation?.operation,
                    userId: contextValue.viewer?.userId,
                    durationMs: Math.round(seconds * 1_000_000) / 1_000,
                    outcome,
                  },
                  'GraphQL operation',
                );
              },
            };
          },
        },
        sessionReadCachePlugin(endpoint.sessionCache),
        {
          // Limits and rate budget, after parsing and validation, before execution.
          requestDidStart: async () => ({
            didResolveOperation: async ({ document, operation, request, contextValue }) => {
              if (!operation) {
                throw operationNotFound(request.operationName);
              }
              if (operation.operation === 'subscription') {
                throw requestRefusal(
                  new DomainError(
                    ErrorCode.BadUserInput,
                    `Subscriptions are not served over HTTP POST: use a websocket (graphql-transport-ws) on ${GRAPHQL_PATH}.`,
                    { field: 'query' },
                  ),
                );
              }
              const [error] = await endpoint.guard({
                document,
                operation,
                variables: request.variables,
                viewer: contextValue.viewer,
                clientAddress: contextValue.clientAddress,
              });
              if (error) {
                throw error;
              }
            },
          }),
        },
      ],
    });
    await apollo.start();
    app.use(
      GRAPHQL_PATH,
      ...(endpoint.corsOrigins.length > 0
        ? [cors({ origin: [...endpoint.corsOrigins], credentials: true, maxAge: 600 })]
        : []),
      executionTimeout(endpoint.limits.executionTimeoutMilliseconds),
      express.json({ limit: endpoint.limits.maxBodyBytes }),
      documentSizeGuard(endpoint.limits),
      expressMiddleware(apollo, {
        context: async ({ req, res }) => {
          const requestId = requestIdOf(req);
          res.setHeader('x-request-id', requestId);
          return endpoint.createContext({
            authorization: req.headers.authorization,
            clientAddress: endpoint.clientAddress(req),
            requestId,
            deadline: requestDeadlineOf(res),
          });
        },
      }),
    );
    app.use(bodyErrors);
  }
  app.use((_request, response) => {
    response.status(404).json({ errors: [{ message: 'Not found.', extensions: { code: 'NOT_FOUND' } }] });
  });
  // The last word on anything thrown outside GraphQL: logged, never shown (no stack, no paths).
  app.use(((error, _request, response, next) => {
    if (response.headersSent && requestDeadlineOf(response)?.expired) {
      // The request was already answered 503 (timed out); its late answer has nowhere to go.
      logger.debug({ err: error }, 'Late answer of a timed-out request dropped');
      return;
    }
    if (response.headersSent) {
      next(error);
      return;
    }
    logger.error({ err: error }, 'Unexpected HTTP error');
    refuse(response, ErrorCode.InternalServerError, 'Internal server error');
  }) satisfies ErrorRequestHandler);

  return {
    listen: (port) =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(port, () => {
          httpServer.off('error', reject);
          resolve((httpServer.address() as AddressInfo).port);
        });
      }),
    close: async () => {
      if (apollo) {
        // Drains HTTP requests and disposes websockets (plugins above).
        await apollo.stop();
      } else {
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      }
      httpServer.closeAllConnections();
    },
  };
}

/**
 * Refuses documents with too many selections before Apollo validates them (validation's cost
 * grows with the square of the selections; Apollo's hooks cannot answer 400 before it).
 */
function documentSizeGuard(limits: Config['limits']): RequestHandler {
  return (request, response, next) => {
    const body = request.body as { query?: unknown } | undefined;
    const query = request.method === 'GET' ? request.query.query : body?.query;
    const refused = typeof query === 'string' ? checkDocumentSourceSize(query, limits) : undefined;
    if (!refused) {
      next();
      return;
    }
    const { status, body: answer } = refusalResponse(refused);
    response.status(status).json(answer);
  };
}

/** Oversized or unreadable bodies get a GraphQL-shaped refusal instead of an HTML page. */
const bodyErrors: ErrorRequestHandler = (
  error: { status?: number; type?: string },
  _request,
  response,
  next,
) => {
  if (response.headersSent) {
    next(error);
    return;
  }
  if (error.type === 'entity.too.large') {
    // 413 says more than the table's 400 for this one case; the code is the same.
    const { body } = refusalResponse(new DomainError(ErrorCode.BadRequest, 'The request body is too large.'));
    response.status(413).json(body);
  } else if (error.status && error.status >= 400 && error.status < 500) {
    refuse(response, ErrorCode.BadRequest, 'The request body could not be read.');
  } else {
    next(error);
  }
};

/** graphql-js's own error, answered under one of the table's codes. */
function withCode(error: GraphQLError, code: ErrorCode): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { ...error.extensions, code: ERROR_CODE_TABLE[code].extensionCode },
  });
}

/** The refusal of an `operationName` the document does not contain (or of an ambiguous document). */
function operationNotFound(operationName: string | null | undefined): GraphQLError {
  return requestRefusal(
    new DomainError(
      ErrorCode.BadUserInput,
      operationName
        ? `The document has no operation named "${operationName.slice(0, 100)}".`
        : 'The document has several operations: say which one with operationName.',
      { field: 'operationName' },
    ),
  );
}

/**
 * Past this many bytes waiting to be written to one socket, its subscriber is not keeping up
 * with seat changes: it is closed (1013, try again later) instead of buffering without bound.
 * graphql-ws clients reconnect and resubscribe.
 */
const MAX_BUFFERED_BYTES = 4 * 1_024 * 1_024;

/** Direct writes of `next` messages for subscription `id` on `socket`. */
function socketSink(socket: WebSocket, id: string): SubscriberSink {
  return {
    id,
    send: (frame) => {
      if (socket.readyState !== WebSocket.OPEN) {
        return;
      }
      if (socket.bufferedAmount > MAX_BUFFERED_BYTES) {
        socket.close(1013, 'Subscriber too slow');
        return;
      }
      socket.send(frame);
    },
  };
}

interface ConnectionState {
  viewer: Viewer | null;
}

/** The connection budget a socket holds: its address's, until `connection_init` names a user. */
interface ConnectionSlot {
  key: string;
}

/**
 * GraphQL over websocket (graphql-transport-ws) on the same server and path. Origins are
 * checked at the upgrade; the token in `connectionParams.authorization` is verified once per
 * connection (invalid: close 4403) and the socket is closed with 4401 when it expires. Every
 * subscribe message goes through the same parsing limits, validation, operation limits and
 * rate budget as HTTP.
 */
function serveWebsockets(
  httpServer: Server,
  endpoint: GraphQLEndpointOptions,
  formatError: ReturnType<typeof createErrorFormatter>,
  logger: Logger,
  metrics: Metrics,
): () => Promise<void> {
  // One budget of connections per client: per address at the upgrade, per user at connection_init.
  const connections = new ConnectionCounter(endpoint.websocket.maxConnectionsPerClient);
  const addressKey = (request: IncomingMessage) => `ip:${endpoint.clientAddress(request)}`;
  const wsServer = new WebSocketServer({
    server: httpServer,
    path: GRAPHQL_PATH,
    maxPayload: endpoint.limits.maxBodyBytes,
    verifyClient: (
      { origin, req }: { origin?: string; req: IncomingMessage },
      callback: (allowed: boolean, status?: number, message?: string) => void,
    ) => {
      if (!isOriginAllowed(origin, req.headers.host, endpoint.corsOrigins)) {
        callback(false, 401, 'Origin not allowed');
      } else if (!connections.hasRoom(addressKey(req))) {
        callback(false, 429, 'Too many connections');
      } else {
        callback(true);
      }
    },
  });
  const slots = new WeakMap<WebSocket, ConnectionSlot>();
  wsServer.on('connection', (socket, request) => {
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
  const states = new WeakMap<object, ConnectionState>();
  const validationRules = endpoint.limits.introspection
    ? specifiedRules
    : [...specifiedRules, NoSchemaIntrospectionCustomRule];
  const formatErrors = (errors: readonly GraphQLError[]) =>
    errors.map((error) => formatError(error.toJSON(), error));

  // Public subscriptions run once per event for all their subscribers, and their results are
  // serialised once and written straight to each subscriber's socket (see SharedSubscriptions).
  const shared = new SharedSubscriptions();
  const sinks = new WeakMap<ExecutionArgs, SubscriberSink>();

  const handle = useServer(
    {
      schema: endpoint.schema,
      subscribe: (args) => shared.subscribe(args, sinks.get(args)),
      onConnect: async (ctx) => {
        const socket = ctx.extra.socket;
        const state: ConnectionState = { viewer: null };
        const value = ctx.connectionParams?.authorization;
        if (typeof value === 'string') {
          try {
            const token = bearerToken(value);
            state.viewer = token ? await endpoint.verifyToken(token) : null;
          } catch (error) {
            logger.debug({ err: error }, 'Websocket refused: invalid token');
            return false;
          }
        }
        const slot = slots.get(socket);
        // The client may have gone while its token was being verified: nothing to set up.
        if (socket.readyState !== WebSocket.OPEN || !slot) {
          return false;
        }
        if (state.viewer) {
          // From now on the connection counts against its user, not its address: many users
          // may share one address (NAT, offices).
          const userKey = `user:${state.viewer.userId}`;
          if (!connections.acquire(userKey)) {
            socket.close(TOO_MANY_CONNECTIONS_CLOSE_CODE, 'Too many connections');
            return false;
          }
          connections.release(slot.key);
          slot.key = userKey;
          // Tokens always carry `exp` (the verifier requires it), however far away it is.
          const cancelExpiry = callAt(state.viewer.expiresAt, () =>
            socket.close(CloseCode.Unauthorized, 'Token expired'),
          );
          socket.once('close', cancelExpiry);
        }
        states.set(ctx, state);
        return true;
      },
      onOperation: () => {
        metrics.activeSubscriptions.inc();
      },
      onComplete: () => {
        metrics.activeSubscriptions.dec();
      },
      onSubscribe: async (ctx, id, payload) => {
        // graphql-ws has already entered this subscription in `ctx.subscriptions`.
        if (Object.keys(ctx.subscriptions).length > endpoint.websocket.maxSubscriptionsPerConnection) {
          return [
            requestRefusal(
              new DomainError(
                ErrorCode.RateLimited,
                `At most ${endpoint.websocket.maxSubscriptionsPerConnection} subscriptions per connection; complete one first.`,
                { limit: endpoint.websocket.maxSubscriptionsPerConnection },
              ),
            ),
          ];
        }
        // The same steps, codes and messages as over HTTP.
        let document;
        try {
          document = parse(payload.query, { maxTokens: endpoint.limits.maxTokens });
        } catch (error) {
          return [
            withCode(
              error instanceof GraphQLError ? error : new GraphQLError('Syntax error'),
              ErrorCode.GraphQLParseFailed,
            ),
          ];
        }
        const tooLarge = checkDocumentSize(document, endpoint.limits.maxSelections);
        if (tooLarge) {
          return [requestRefusal(tooLarge)];
        }
        const validationErrors = validate(endpoint.schema, document, validationRules);
        if (validationErrors.length > 0) {
          return validationErrors.map((error) => withCode(error, ErrorCode.GraphQLValidationFailed));
        }
        const operation = getOperationAST(document, payload.operationName);
        if (!operation) {
          return [operationNotFound(payload.operationName)];
        }
        const variables = getVariableValues(
          endpoint.schema,
          operation.variableDefinitions ?? [],
          payload.variables ?? {},
          { maxErrors: 10 },
        );
        if (variables.errors) {
          return variables.errors.map((error) => withCode(error, ErrorCode.BadUserInput));
        }
        const state = states.get(ctx) ?? { viewer: null };
        const address = endpoint.clientAddress(ctx.extra.request);
        const refused = await endpoint.guard({
          document,
          operation,
          variables: payload.variables ?? undefined,
          viewer: state.viewer,
          clientAddress: address,
        });
        if (refused.length > 0) {
          return refused;
        }
        const args: ExecutionArgs = {
          schema: endpoint.schema,
          document,
          operationName: payload.operationName,
          variableValues: payload.variables,
          contextValue: await endpoint.createContext({
            viewer: state.viewer,
            clientAddress: address,
            requestId: randomUUID(),
            cacheLoaders: false,
          }),
        };
        sinks.set(args, socketSink(ctx.extra.socket, id));
        return args;
      },
      onError: (_ctx, _id, _payload, errors) => formatErrors(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: formatErrors(result.errors) } : undefined,
    },
    wsServer,
  );
  return async () => {
    await handle.dispose();
  };
}
