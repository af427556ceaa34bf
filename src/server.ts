import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { type GraphQLError, type GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { type Context, type ContextFactory } from './context';
import { createErrorFormatter } from './errors/graphql-error-formatter';
import { type Logger } from './infra/logger';

/** Whether each dependency answered; the process is ready when all did. */
export type ReadinessReport = Record<string, boolean>;

export interface HttpServerOptions {
  readonly logger: Logger;
  readonly readiness: () => Promise<ReadinessReport>;
  /** Absent for `ROLE=worker`: then only the health endpoints are served. */
  readonly graphql?: { readonly schema: GraphQLSchema; readonly createContext: ContextFactory };
}

/** The HTTP side of a process: health endpoints and, unless a worker, GraphQL over HTTP and websocket. */
export interface HttpServer {
  /** Starts listening; resolves with the bound port (useful with port 0). */
  listen(port: number): Promise<number>;
  /** Stops accepting, drains in-flight requests and closes websockets. */
  close(): Promise<void>;
}

export const GRAPHQL_PATH = '/graphql';

export async function createHttpServer(options: HttpServerOptions): Promise<HttpServer> {
  const { logger } = options;
  const app = express();
  app.disable('x-powered-by');
  const httpServer: Server = createServer(app);

  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.get('/readyz', async (_request, response) => {
    const report = await options.readiness();
    const ready = Object.values(report).every(Boolean);
    response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks: report });
  });

  let disposeWebsockets: () => Promise<void> = async () => undefined;
  let apollo: ApolloServer<Context> | null = null;
  if (options.graphql) {
    const { schema, createContext } = options.graphql;
    const formatError = createErrorFormatter((error) =>
      logger.error({ err: error }, 'Unexpected GraphQL error'),
    );
    const formatErrors = (errors: readonly GraphQLError[]) =>
      errors.map((error) => formatError(error.toJSON(), error));

    const wsServer = new WebSocketServer({ server: httpServer, path: GRAPHQL_PATH });
    const websocketHandle = useServer(
      {
        schema,
        context: (ctx) =>
          createContext(authorizationParameter(ctx.connectionParams), { cacheLoaders: false }),
        onError: (_ctx, _id, _payload, errors) => formatErrors(errors),
        onNext: (_ctx, _id, _payload, _args, result) =>
          result.errors ? { ...result, errors: formatErrors(result.errors) } : undefined,
      },
      wsServer,
    );
    disposeWebsockets = async () => {
      await websocketHandle.dispose();
    };

    apollo = new ApolloServer<Context>({
      schema,
      formatError,
      allowBatchedHttpRequests: false,
      plugins: [
        ApolloServerPluginDrainHttpServer({ httpServer }),
        ApolloServerPluginLandingPageDisabled(),
        { serverWillStart: async () => ({ drainServer: disposeWebsockets }) },
      ],
    });
    await apollo.start();
    app.use(
      GRAPHQL_PATH,
      express.json({ limit: '100kb' }),
      expressMiddleware(apollo, {
        context: async ({ req }) => createContext(req.headers.authorization),
      }),
    );
  }

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

function authorizationParameter(
  connectionParams: Readonly<Record<string, unknown>> | undefined,
): string | undefined {
  const value = connectionParams?.authorization ?? connectionParams?.Authorization;
  return typeof value === 'string' ? value : undefined;
}
