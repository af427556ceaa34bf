import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import express from 'express';
import { type FormattedExecutionResult } from 'graphql';
import { type Config } from '../config/config';
import { type Context } from '../resolvers/context';
import { createErrorFormatter } from '../errors/graphql-error-formatter';
import { type TokenVerifier } from '../infra/auth';
import { type Logger } from '../infra/logger';
import { type Metrics } from '../infra/metrics';
import { ConnectionCounter } from '../security/connection-limits';
import { mountGraphQLIde } from '../web/graphql-ide';
import { mountDemoPages } from '../web/demo-pages';
import { type DevTokenIssuer } from '../web/dev-token-route';
import { countResponses, type DependencyHealth, mountHealthRoutes } from './health-routes';
import { type GraphQLServing, mountHttpTransport } from './http';
import { notFound, unexpectedErrors } from './http-refusals';
import { operationLogPlugin } from './operation-log-plugin';
import { mountServerSentEvents } from './server-sent-events';
import { type SubscriptionSignals } from './subscription-signals';
import { serveWebsocket } from './websocket';

export const GRAPHQL_PATH = '/graphql';
/** Subscriptions over Server-Sent Events (graphql-sse, distinct connections mode). */
export const SSE_PATH = `${GRAPHQL_PATH}/stream`;

/** The response cache as the HTTP transport uses it: an Apollo plugin and a serialiser. */
export interface HttpResponseCache {
  readonly plugin: ApolloServerPlugin<Context>;
  readonly stringifyResult: (value: FormattedExecutionResult) => string;
}

/** GraphQL over HTTP, websocket and Server-Sent Events: one pipeline, three thin transports. */
export interface GraphQLEndpointOptions extends GraphQLServing {
  readonly verifyToken: TokenVerifier;
  /** Caps on websocket and SSE connections per client and subscriptions per connection. */
  readonly websocket: Config['websocket'];
  /** Serves repeated public session queries (seat maps) without executing them. */
  readonly responseCache: HttpResponseCache;
  /** Told when each websocket or SSE subscription is registered (tests wait on it). */
  readonly subscriptionSignals: SubscriptionSignals;
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

/** The HTTP side of a process: health endpoints and, unless a worker, GraphQL over HTTP, websocket and SSE. */
export interface HttpServer {
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number): Promise<number>;
  /** Stops accepting, drains in-flight requests and closes websockets and event streams. */
  close(): Promise<void>;
}

/** Assembles the process's HTTP server from its routes and transports. */
export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { logger, metrics } = options;
  const app = express();
  app.disable('x-powered-by');
  // Express would hash every response body for an ETag: a SHA-1 over each 45 KB seat map, ~3 % of
  // the CPU of the mixed reads, for GraphQL answers clients do not revalidate. The demo pages,
  // which browsers do revalidate, set their own (web/demo-pages.ts).
  app.disable('etag');
  app.use(countResponses(metrics));
  const httpServer: Server = createServer(app);
  mountHealthRoutes(app, options.health, metrics);

  let apollo: ApolloServer<Context> | null = null;
  if (options.graphql) {
    const endpoint = options.graphql;
    const formatError = createErrorFormatter((error, level, message) =>
      logger[level]({ err: error }, message),
    );
    if (endpoint.limits.introspection) {
      // Developer surfaces go with introspection: off in production unless enabled.
      mountGraphQLIde(app, GRAPHQL_PATH);
      mountDemoPages(app, endpoint.issueDevToken);
    }
    // One budget of long-lived connections per client, whichever transport they use.
    const connectionCounter = new ConnectionCounter(endpoint.websocket.maxConnectionsPerClient);
    const disposeWebsocket = serveWebsocket(httpServer, {
      path: GRAPHQL_PATH,
      pipeline: endpoint.pipeline,
      verifyToken: endpoint.verifyToken,
      clientAddress: endpoint.clientAddress,
      corsOrigins: endpoint.corsOrigins,
      maxPayloadBytes: endpoint.limits.maxBodyBytes,
      websocket: endpoint.websocket,
      connectionCounter,
      formatError,
      signals: endpoint.subscriptionSignals,
      logger,
      metrics,
    });
    // Before the HTTP transport, whose middlewares (request timeout) would take any path under /graphql.
    const disposeEventStreams = mountServerSentEvents(app, {
      path: SSE_PATH,
      graphqlPath: GRAPHQL_PATH,
      pipeline: endpoint.pipeline,
      clientAddress: endpoint.clientAddress,
      corsOrigins: endpoint.corsOrigins,
      maxBodyBytes: endpoint.limits.maxBodyBytes,
      connections: connectionCounter,
      maxConnectionsPerClient: endpoint.websocket.maxConnectionsPerClient,
      formatError,
      signals: endpoint.subscriptionSignals,
      logger,
      metrics,
    });
    apollo = await mountHttpTransport(app, httpServer, {
      path: GRAPHQL_PATH,
      schema: endpoint.schema,
      pipeline: endpoint.pipeline,
      createContext: endpoint.createContext,
      limits: endpoint.limits,
      corsOrigins: endpoint.corsOrigins,
      clientAddress: endpoint.clientAddress,
      formatError,
      stringifyResult: endpoint.responseCache.stringifyResult,
      plugins: [operationLogPlugin(endpoint.schema, logger, metrics), endpoint.responseCache.plugin],
      ssePath: SSE_PATH,
      // Event streams are requests that never finish by themselves: they must end for the drain to.
      drain: async () => {
        await Promise.all([disposeWebsocket(), disposeEventStreams()]);
      },
    });
  }
  app.use(notFound);
  app.use(unexpectedErrors(logger));

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
        // Drains HTTP requests and disposes websockets and event streams (plugins above).
        await apollo.stop();
      } else {
        await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      }
      httpServer.closeAllConnections();
    },
  };
}
