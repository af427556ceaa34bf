import { type IncomingMessage, STATUS_CODES } from 'node:http';
import cors from 'cors';
import express, { type Express, type Request, type Response } from 'express';
import { type ExecutionResult, type GraphQLError, type GraphQLFormattedError } from 'graphql';
import {
  createHandler,
  type ExecutionResult as StreamExecutionResult,
  type RequestParams,
  type Response as StreamResponse,
} from 'graphql-sse';
import { DomainError, ErrorCode, unauthenticated } from '../errors/domain-error';
import { ERROR_CODE_TABLE, refusalResponse, wireCode } from '../errors/graphql-error-formatter';
import { type Logger } from '../infra/logger';
import { callAt } from '../infra/long-timer';
import { type Metrics } from '../infra/metrics';
import { isAsyncGenerator, SharedSubscriptions } from '../live/shared-subscriptions';
import { type OperationPipeline, type TransportPolicy } from '../pipeline/operation-pipeline';
import { type ClientAddressResolver } from '../security/client-address';
import { type ConnectionCounter } from '../security/connection-limits';
import { isOriginAllowed } from '../security/origin-policy';
import { requestIdOf } from './http';
import { bodyErrors } from './http-refusals';
import { failureResult, interruptibleResults } from './interruptible-results';
import { MAX_BUFFERED_BYTES } from './socket-sink';
import { announceFirstPull, type SubscriptionSignals } from './subscription-signals';

/** What GraphQL over Server-Sent Events needs besides the pipeline. */
export interface ServerSentEventsOptions {
  /** Where the event streams are served (`/graphql/stream`). */
  readonly path: string;
  /** Where queries and mutations go instead (named when one is sent here). */
  readonly graphqlPath: string;
  readonly pipeline: OperationPipeline;
  readonly clientAddress: ClientAddressResolver;
  readonly corsOrigins: readonly string[];
  /** Largest POST body (`MAX_BODY_BYTES`). */
  readonly maxBodyBytes: number;
  /** Open connections per client: shared with the websocket transport, so one cap counts both. */
  readonly connections: ConnectionCounter;
  /** The cap `connections` enforces (`WS_MAX_CONNECTIONS_PER_CLIENT`), for the refusal's message. */
  readonly maxConnectionsPerClient: number;
  /** The one formatter of the service (see `createErrorFormatter`). */
  readonly formatError: (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;
  /** Told when each subscription is registered, with the request's `x-request-id` (tests wait on it). */
  readonly signals: SubscriptionSignals;
  readonly logger: Logger;
  readonly metrics: Metrics;
}

/** One request on the stream path, as far as this transport follows it. */
interface StreamState {
  readonly authorization: string | undefined;
  readonly clientAddress: string;
  readonly requestId: string;
  /** The connection budget held once the stream is admitted: `user:<id>`, or `ip:<address>` when anonymous. */
  slot?: string;
  /** Set once a subscription streams: stops its token's expiry timer. */
  cancelExpiry?: () => void;
}

/** An open event stream, which a stopping server ends. */
interface OpenStream {
  end(): void;
  readonly finished: Promise<void>;
}

const EVENT_STREAM = 'text/event-stream';
const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';

function acceptsEventStream(accept: string | undefined): boolean {
  return (accept ?? '').split(',').some((type) => type.split(';')[0].trim().toLowerCase() === EVENT_STREAM);
}

/** A refusal before streaming, as graphql-sse's response tuple: the error table's status and code. */
function refusal(error: DomainError, status?: number, headers: Record<string, string> = {}): StreamResponse {
  const answer = refusalResponse(error);
  const code = status ?? answer.status;
  return [
    JSON.stringify(answer.body),
    {
      status: code,
      statusText: STATUS_CODES[code] ?? '',
      headers: { 'content-type': JSON_CONTENT_TYPE, ...headers },
    },
  ];
}

/**
 * graphql-sse's own refusals of unreadable parameters (no query, variables not an object…)
 * carry no code: they are the client's `BAD_REQUEST`, like an unreadable HTTP body.
 */
function withContractCodes(body: string): string {
  try {
    const parsed = JSON.parse(body) as { errors?: { message?: unknown; extensions?: object }[] };
    if (!Array.isArray(parsed.errors)) {
      return body;
    }
    return JSON.stringify({
      errors: parsed.errors.map((error) => ({
        message: String(error.message),
        extensions: { code: wireCode(ErrorCode.BadRequest), ...error.extensions },
      })),
    });
  } catch {
    return body;
  }
}

/**
 * A result graphql-sse recognises as one (it requires a `data` key) rather than as execution
 * arguments; `undefined` data is left out of the JSON.
 */
function singleResult(result: ExecutionResult): StreamExecutionResult {
  return { data: undefined, ...result };
}

/**
 * GraphQL subscriptions over Server-Sent Events (the graphql-sse protocol, distinct
 * connections mode: one stream per subscription) on `options.path`, a thin adapter like the
 * websocket's: every operation goes through the operation pipeline with the request's
 * `Authorization` header, as over HTTP. Queries and mutations are refused (they go to HTTP
 * POST). Each stream holds a slot of its client's connection budget, shared with websockets,
 * until it closes; it ends when its token expires. Returns the disposer, which ends every
 * stream (without `complete`, so clients reconnect elsewhere) and refuses new ones.
 */
export function mountServerSentEvents(app: Express, options: ServerSentEventsOptions): () => Promise<void> {
  const { connections, logger, metrics, signals } = options;
  const policy: TransportPolicy = {
    cacheLoaders: false,
    refuseQueriesAndMutations: `Only subscriptions are served on ${options.path}: send queries and mutations with HTTP POST to ${options.graphqlPath}.`,
  };
  // Public subscriptions run once per event for all their SSE subscribers (see SharedSubscriptions).
  const shared = new SharedSubscriptions(logger);
  const streams = new Set<OpenStream>();
  let stopping = false;

  const stoppingRefusal = () =>
    refusal(
      new DomainError(ErrorCode.InternalServerError, 'The server is stopping: connect again.', {
        reason: 'STOPPING',
      }),
      503,
    );
  const tooManyConnections = () =>
    refusal(
      new DomainError(
        ErrorCode.RateLimited,
        `At most ${options.maxConnectionsPerClient} websocket and Server-Sent Events connections per client: close one first.`,
        { limit: options.maxConnectionsPerClient },
      ),
    );
  const tokenExpired = (): ExecutionResult =>
    failureResult(unauthenticated('The bearer token has expired: subscribe again with a new one.'));

  /** The operation of one stream: through the pipeline, admitted against the caps, subscribed. */
  const subscribe = async (
    state: StreamState,
    params: RequestParams,
  ): Promise<StreamResponse | StreamExecutionResult | AsyncGenerator<ExecutionResult>> => {
    const prepared = await options.pipeline.prepare(
      {
        query: params.query,
        variables: params.variables,
        operationName: params.operationName,
        sender: { authorization: state.authorization },
        clientAddress: state.clientAddress,
        requestId: state.requestId,
      },
      policy,
    );
    if (prepared.errors) {
      // Sent as one `next` carrying the errors, then `complete`: a refusal is final, and
      // graphql-sse clients would retry any non-200 answer as a network failure.
      return singleResult({ errors: prepared.errors });
    }
    if (stopping) {
      return stoppingRefusal();
    }
    const viewer = prepared.args.contextValue.viewer;
    const slot = viewer ? `user:${viewer.userId}` : `ip:${state.clientAddress}`;
    if (!connections.acquire(slot)) {
      logger.debug({ requestId: state.requestId }, 'Server-Sent Events stream refused: too many connections');
      return tooManyConnections();
    }
    state.slot = slot;
    const source = await shared.subscribe(prepared.args);
    if (!isAsyncGenerator(source)) {
      // Refused at subscribe time (NOT_FOUND, FORBIDDEN…): one `next` with the errors, then `complete`.
      return singleResult(source);
    }
    const announced =
      signals.listenerCount('subscribed') === 0
        ? source
        : announceFirstPull(source, () => signals.emit('subscribed', state.requestId));
    const { results, interrupt } = interruptibleResults(announced);
    metrics.activeSubscriptions.inc();
    // Tokens always carry `exp` (the verifier requires it): the stream ends with it, as a websocket does.
    const cancelExpiry = viewer ? callAt(viewer.expiresAt, () => interrupt(tokenExpired())) : () => undefined;
    state.cancelExpiry = () => {
      cancelExpiry();
      metrics.activeSubscriptions.dec();
    };
    return results;
  };

  const handler = createHandler<IncomingMessage, StreamState>({
    // No stream tokens: distinct connections mode only (one stream per operation).
    authenticate: () => null,
    // Every operation arrives here; what this returns is never parsed or validated again.
    onSubscribe: (request, params) => subscribe(request.context, params),
    onNext: (_context, _request, result) => {
      if (!result.errors) {
        return undefined;
      }
      const errors = result.errors.map((error: GraphQLError) => options.formatError(error.toJSON(), error));
      // graphql-sse only serialises what it is given; it types errors as unformatted.
      return { ...result, errors: errors as unknown as GraphQLError[] };
    },
  });

  const release = (state: StreamState) => {
    if (state.slot) {
      connections.release(state.slot);
    }
    state.cancelExpiry?.();
  };

  /** Writes the event stream until it ends, the client leaves or the server stops. */
  const stream = async (
    response: Response,
    body: AsyncGenerator<string, void, undefined>,
    init: StreamResponse[1],
  ) => {
    let markFinished!: () => void;
    const open: OpenStream = {
      end: () => void body.return(undefined),
      finished: new Promise((resolve) => (markFinished = resolve)),
    };
    streams.add(open);
    metrics.openEventStreams.inc();
    response.once('close', open.end);
    try {
      // Proxies (nginx) must not buffer the stream.
      response.writeHead(init.status, init.statusText, { ...init.headers, 'x-accel-buffering': 'no' });
      for await (const message of body) {
        // A client gone (even before the stream started) leaves the response destroyed, not unwritable.
        if (response.destroyed || !response.writable) {
          break;
        }
        if (response.writableLength > MAX_BUFFERED_BYTES) {
          // Not reading its stream: dropped rather than buffered without bound; clients reconnect.
          response.destroy();
          break;
        }
        response.write(message);
      }
    } finally {
      response.off('close', open.end);
      response.end();
      streams.delete(open);
      metrics.openEventStreams.dec();
      markFinished();
    }
  };

  const serve = async (request: Request, response: Response) => {
    const refuse = ([body, init]: StreamResponse) => {
      response.writeHead(init.status, init.statusText, init.headers);
      response.end(typeof body === 'string' ? body : undefined);
    };
    if (stopping) {
      refuse(stoppingRefusal());
      return;
    }
    if (request.method !== 'GET' && request.method !== 'POST') {
      refuse(refusal(new DomainError(ErrorCode.BadRequest, 'Use GET or POST.'), 405, { allow: 'GET, POST' }));
      return;
    }
    if (!acceptsEventStream(request.headers.accept)) {
      refuse(
        refusal(
          new DomainError(ErrorCode.BadRequest, `Send "Accept: ${EVENT_STREAM}" to subscribe here.`),
          406,
        ),
      );
      return;
    }
    if (!isOriginAllowed(request.headers.origin, request.headers.host, options.corsOrigins)) {
      refuse(refusal(new DomainError(ErrorCode.Forbidden, 'Origin not allowed.')));
      return;
    }
    const clientAddress = options.clientAddress(request);
    // Without a token the stream would count against its address: refuse before any work.
    if (request.headers.authorization === undefined && !connections.hasRoom(`ip:${clientAddress}`)) {
      refuse(tooManyConnections());
      return;
    }
    const requestId = requestIdOf(request);
    response.setHeader('x-request-id', requestId);
    const state: StreamState = { authorization: request.headers.authorization, clientAddress, requestId };
    try {
      const [body, init] = await handler({
        method: request.method,
        url: request.originalUrl,
        headers: {
          // graphql-sse recognises a stream request by this exact value only.
          get: (key) => (key === 'accept' ? EVENT_STREAM : request.get(key)),
        },
        body: (request.body as Record<string, unknown> | undefined) ?? null,
        raw: request,
        context: state,
      });
      if (body === null || typeof body === 'string') {
        refuse([body === null ? null : withContractCodes(body), init]);
        return;
      }
      await stream(response, body, init);
    } catch (error) {
      logger[ERROR_CODE_TABLE[ErrorCode.InternalServerError].logLevel](
        { err: error, requestId },
        'Server-Sent Events request failed',
      );
      if (response.headersSent) {
        response.destroy();
      } else {
        refuse(refusal(new DomainError(ErrorCode.InternalServerError, 'Internal server error')));
      }
    } finally {
      release(state);
    }
  };

  app.all(
    options.path,
    ...(options.corsOrigins.length > 0
      ? [cors({ origin: [...options.corsOrigins], credentials: true, maxAge: 600 })]
      : []),
    express.json({ limit: options.maxBodyBytes }),
    serve,
    bodyErrors,
  );

  return async () => {
    stopping = true;
    const open = [...streams];
    for (const each of open) {
      each.end();
    }
    await Promise.all(open.map((each) => each.finished));
  };
}
