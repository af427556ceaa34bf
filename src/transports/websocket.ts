import { randomUUID } from 'node:crypto';
import { type Server } from 'node:http';
import { execute, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { type Config } from '../config/config';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { requestRefusal } from '../errors/graphql-error-formatter';
import { type TokenVerifier, type Viewer } from '../infra/auth';
import { type Logger } from '../infra/logger';
import { type Metrics } from '../infra/metrics';
import { isAsyncGenerator, type LiveExecutionArgs, SharedSubscriptions } from '../live/shared-subscriptions';
import { type OperationPipeline, type TransportPolicy } from '../pipeline/operation-pipeline';
import { type ClientAddressResolver } from '../security/client-address';
import { type ConnectionCounter } from '../security/connection-limits';
import { socketSink } from './socket-sink';
import { announceFirstPull, type SubscriptionSignals } from './subscription-signals';
import { openWebsocketConnections } from './websocket-connections';

/** What GraphQL over websocket needs besides the pipeline. */
export interface WebsocketTransportOptions {
  readonly path: string;
  readonly pipeline: OperationPipeline;
  readonly verifyToken: TokenVerifier;
  readonly clientAddress: ClientAddressResolver;
  readonly corsOrigins: readonly string[];
  readonly maxPayloadBytes: number;
  readonly websocket: Config['websocket'];
  /** Open connections per client, when shared with the SSE transport: one cap counts both. */
  readonly connectionCounter?: ConnectionCounter;
  /** The one formatter of the service (see `createErrorFormatter`). */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Told when each subscription is registered (tests wait on it). */
  readonly signals: SubscriptionSignals;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** Per connection: the caller `connection_init` authenticated. */
interface ConnectionExtra extends Record<PropertyKey, unknown> {
  viewer: Viewer | null;
}

/** Execution arguments of an admitted query or mutation: its slot is released once it has run. */
interface AdmittedExecutionArgs extends LiveExecutionArgs {
  readonly releaseAdmission?: () => void;
}

// Subscriptions live as long as their socket: DataLoader memo off (each event reads fresh).
const WEBSOCKET_POLICY: TransportPolicy = { cacheLoaders: false };

/**
 * GraphQL over websocket (graphql-transport-ws) on `httpServer`, a thin adapter: connection
 * admission and identity in `websocket-connections.ts`, every subscribe message through the
 * operation pipeline (the same codes and messages as over HTTP), and results of shared public
 * subscriptions written pre-serialised straight to the socket. Returns its disposer.
 */
export function serveWebsocket(httpServer: Server, options: WebsocketTransportOptions): () => Promise<void> {
  const { metrics, signals } = options;
  const connections = openWebsocketConnections(httpServer, options);
  const maxSubscriptions = options.websocket.maxSubscriptionsPerConnection;
  const formatErrors = (errors: readonly GraphQLError[]) =>
    errors.map((error) => options.formatError(error.toJSON(), error));
  // Public subscriptions run once per event for all their subscribers (see SharedSubscriptions).
  const shared = new SharedSubscriptions(options.logger);

  const handle = useServer<Record<string, unknown> | undefined, ConnectionExtra>(
    {
      execute: async (args: AdmittedExecutionArgs) => {
        try {
          return await execute(args);
        } finally {
          args.releaseAdmission?.();
        }
      },
      subscribe: async (args: LiveExecutionArgs) => {
        const result = await shared.subscribe(args);
        const resync = isAsyncGenerator(result) ? undefined : resyncRequiredIn(result.errors);
        if (resync) {
          // DESIGN §4.3: a resume that cannot be served ends with an `error` message, which
          // graphql-ws sends for a stream that throws (a single result would be next + complete).
          return failingStream(resync);
        }
        const { sink } = args;
        if (!sink || !isAsyncGenerator(result) || signals.listenerCount('subscribed') === 0) {
          return result;
        }
        return announceFirstPull(result, () => signals.emit('subscribed', sink.id));
      },
      onConnect: async (ctx) => {
        const viewer = await connections.authenticate(ctx.extra.socket, ctx.connectionParams?.authorization);
        if (viewer === false) {
          return false;
        }
        ctx.extra.viewer = viewer;
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
        if (Object.keys(ctx.subscriptions).length > maxSubscriptions) {
          return [
            requestRefusal(
              new DomainError(
                ErrorCode.RateLimited,
                `At most ${maxSubscriptions} subscriptions per connection; complete one first.`,
                { limit: maxSubscriptions },
              ),
            ),
          ];
        }
        // Admission control first, as over HTTP (queries and mutations; subscriptions pass).
        const admission = await options.pipeline.enter(payload.query, payload.operationName);
        if (admission.refusal) {
          return [requestRefusal(admission.refusal)];
        }
        let prepared;
        try {
          prepared = await options.pipeline.prepare(
            {
              query: payload.query,
              variables: payload.variables,
              operationName: payload.operationName,
              sender: { viewer: ctx.extra.viewer ?? null },
              clientAddress: options.clientAddress(ctx.extra.request),
              requestId: randomUUID(),
            },
            WEBSOCKET_POLICY,
          );
        } catch (error) {
          admission.release();
          throw error;
        }
        if (prepared.errors) {
          admission.release();
          return prepared.errors;
        }
        return {
          ...prepared.args,
          sink: socketSink(ctx.extra.socket, id),
          releaseAdmission: admission.release,
        } satisfies AdmittedExecutionArgs;
      },
      onError: (_ctx, _id, _payload, errors) => formatErrors(errors),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors ? { ...result, errors: formatErrors(result.errors) } : undefined,
    },
    connections.server,
  );
  return async () => {
    await handle.dispose();
  };
}

/** The RESYNC_REQUIRED among a subscription's subscribe-time errors, if any. */
function resyncRequiredIn(errors: readonly GraphQLError[] | undefined): DomainError | undefined {
  const found = errors?.find(
    (error) =>
      error.originalError instanceof DomainError && error.originalError.code === ErrorCode.ResyncRequired,
  );
  return found?.originalError as DomainError | undefined;
}

/** A stream whose first pull throws `error`. */
function failingStream(error: Error): AsyncGenerator<never> {
  const stream: AsyncGenerator<never> = {
    next: () => Promise.reject(error),
    return: async () => ({ done: true, value: undefined as never }),
    throw: (thrown: unknown) => Promise.reject(thrown),
    [Symbol.asyncIterator]: () => stream,
    [Symbol.asyncDispose]: async () => undefined,
  };
  return stream;
}
