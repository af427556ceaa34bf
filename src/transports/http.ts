import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server } from 'node:http';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { expressMiddleware } from '@as-integrations/express5';
import cors from 'cors';
import express, { type Express } from 'express';
import { type FormattedExecutionResult, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import { type Config } from '../config/config';
import { type Context, type ContextFactory } from '../resolvers/context';
import { type OperationPipeline, type TransportPolicy } from '../pipeline/operation-pipeline';
import { type ClientAddressResolver } from '../security/client-address';
import { executionTimeout, requestDeadlineOf } from '../security/execution-timeout';
import { admissionControl, bodyErrors, documentSizeGuard } from './http-refusals';

/** What every GraphQL transport serves requests with (HTTP and websocket alike). */
export interface GraphQLServing {
  readonly schema: GraphQLSchema;
  readonly pipeline: OperationPipeline;
  readonly createContext: ContextFactory;
  readonly limits: Config['limits'];
  /** Browser origins allowed besides the API's own (`CORS_ORIGINS`). */
  readonly corsOrigins: readonly string[];
  /** Who sent a request (`TRUSTED_PROXIES`): rate limits and connection caps count per client. */
  readonly clientAddress: ClientAddressResolver;
}

/** What GraphQL over HTTP needs. */
export interface HttpTransportOptions extends GraphQLServing {
  readonly path: string;
  /** Where subscriptions are also served over Server-Sent Events, named when one is sent here. */
  readonly ssePath?: string;
  /** The one formatter of the service (see `createErrorFormatter`). */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Apollo's `stringifyResult` (the response cache writes a stored result's JSON once). */
  readonly stringifyResult: (value: FormattedExecutionResult) => string;
  /** Plugins of this deployment (operation log, response cache), before the pipeline's admission. */
  readonly plugins: readonly ApolloServerPlugin<Context>[];
  /** Called when Apollo drains (the websocket and SSE transports' disposers). */
  readonly drain: () => Promise<void>;
}

/** The caller's `x-request-id` when it looks like one, else a new id. */
export function requestIdOf(request: IncomingMessage): string {
  const given = request.headers['x-request-id'];
  return typeof given === 'string' && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
}

/**
 * The operation pipeline's checks after Apollo's own parsing and validation: operation
 * selection, the HTTP transport's refusal of subscriptions, limits and rate budget. They run
 * before the response cache, so cached answers still pay the rate budget.
 */
export function pipelineAdmissionPlugin(
  pipeline: OperationPipeline,
  policy: TransportPolicy,
): ApolloServerPlugin<Context> {
  return {
    requestDidStart: async () => ({
      didResolveOperation: async ({ document, operation, request, contextValue }) => {
        const [refusal] = await pipeline.admit(
          {
            document,
            operation,
            operationName: request.operationName,
            variables: request.variables,
            viewer: contextValue.viewer,
            clientAddress: contextValue.clientAddress,
          },
          policy,
        );
        if (refusal) {
          throw refusal;
        }
      },
    }),
  };
}

/**
 * GraphQL over HTTP on `app` at `options.path`, a thin adapter: Apollo parses and validates,
 * the operation pipeline admits, express middlewares bound bodies and time. Returns the
 * started Apollo server (stopping it drains HTTP and the websocket transport).
 */
export async function mountHttpTransport(
  app: Express,
  httpServer: Server,
  options: HttpTransportOptions,
): Promise<ApolloServer<Context>> {
  const policy: TransportPolicy = {
    refuseSubscriptions: `Subscriptions are not served over HTTP POST: use a websocket (graphql-transport-ws) on ${options.path}${
      options.ssePath ? ` or Server-Sent Events (graphql-sse) on ${options.ssePath}` : ''
    }.`,
    cacheLoaders: true,
  };
  const apollo = new ApolloServer<Context>({
    schema: options.schema,
    formatError: options.formatError,
    introspection: options.limits.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    stringifyResult: options.stringifyResult,
    parseOptions: { maxTokens: options.limits.maxTokens },
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // We send no cache hints; the default cache-control plugin would wrap every field resolver.
      ApolloServerPluginCacheControlDisabled(),
      { serverWillStart: async () => ({ drainServer: options.drain }) },
      ...options.plugins,
      pipelineAdmissionPlugin(options.pipeline, policy),
    ],
  });
  await apollo.start();
  app.use(
    options.path,
    ...(options.corsOrigins.length > 0
      ? [cors({ origin: [...options.corsOrigins], credentials: true, maxAge: 600 })]
      : []),
    executionTimeout(options.limits.executionTimeoutMilliseconds),
    express.json({ limit: options.limits.maxBodyBytes }),
    documentSizeGuard(options.limits),
    // Before the token and the context: refusing under overload must cost next to nothing.
    admissionControl(options.pipeline),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const requestId = requestIdOf(req);
        res.setHeader('x-request-id', requestId);
        return options.createContext({
          authorization: req.headers.authorization,
          clientAddress: options.clientAddress(req),
          requestId,
          deadline: requestDeadlineOf(res),
        });
      },
    }),
  );
  app.use(bodyErrors);
  return apollo;
}
