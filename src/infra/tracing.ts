import {
  type Attributes,
  type Context,
  context,
  propagation,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
// Types only (erased at build): the packages themselves are required in startTracing.
import type { NodeSDK } from '@opentelemetry/sdk-node';
import type { suppressTracing as suppressTracingFunction } from '@opentelemetry/core';
import type { HttpInstrumentation as HttpInstrumentationClass } from '@opentelemetry/instrumentation-http';
import type {
  ExpressInstrumentation as ExpressInstrumentationClass,
  ExpressLayerType as ExpressLayerTypeEnum,
} from '@opentelemetry/instrumentation-express';
import type { GraphQLInstrumentation as GraphQLInstrumentationClass } from '@opentelemetry/instrumentation-graphql';
import type { PgInstrumentation as PgInstrumentationClass } from '@opentelemetry/instrumentation-pg';
import type { IORedisInstrumentation as IORedisInstrumentationClass } from '@opentelemetry/instrumentation-ioredis';
import type { AmqplibInstrumentation as AmqplibInstrumentationClass } from '@opentelemetry/instrumentation-amqplib';

/**
 * OpenTelemetry tracing: the on/off rule, the SDK's start and flush, and the few helpers the
 * booking path uses for its own spans and for carrying a trace through the outbox and RabbitMQ.
 *
 * Off by default, and then free: the SDK and the instrumentations are never loaded (they are
 * required only by {@link startTracing}), and every helper checks one boolean first, so no
 * span is made, no context is captured and no outbox row carries a trace.
 */

/** The environment, as `process.env` holds it. */
export type TracingEnvironment = Readonly<Record<string, string | undefined>>;

/** W3C trace context (`traceparent`, `tracestate`) as the propagator writes it. */
export type TraceCarrier = Record<string, string>;

const TRACER_NAME = 'poltrona';
// The pg instrumentation's attribute for the statement (semantic conventions' `db.query.text`).
const ATTR_DB_QUERY_TEXT = 'db.query.text';
const DEFAULT_SERVICE_NAME = 'poltrona';

/**
 * Whether this process traces: `OTEL_SDK_DISABLED` is not `true`, and an OTLP endpoint
 * (`OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) or a traces exporter
 * (`OTEL_TRACES_EXPORTER`) is named. An empty value counts as unset (docker compose passes
 * `${VAR:-}`), and `OTEL_TRACES_EXPORTER=none` turns tracing off even with an endpoint (the SDK
 * would export nothing, so the spans would be pure cost).
 */
export function tracingEnabled(env: TracingEnvironment): boolean {
  const value = (name: string) => (env[name] ?? '').trim();
  if (value('OTEL_SDK_DISABLED').toLowerCase() === 'true') {
    return false;
  }
  const exporters = value('OTEL_TRACES_EXPORTER').toLowerCase();
  if (exporters === 'none') {
    return false;
  }
  return (
    value('OTEL_EXPORTER_OTLP_ENDPOINT') !== '' ||
    value('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') !== '' ||
    exporters !== ''
  );
}

let sdk: NodeSDK | null = null;
// Read by every helper before it touches the API: the whole cost of tracing when it is off.
let tracing = false;
// @opentelemetry/core's, required with the SDK: {@link untraced} needs it only when tracing.
let suppressTracing: typeof suppressTracingFunction | null = null;

/** Whether {@link startTracing} turned tracing on in this process. */
export function isTracing(): boolean {
  return tracing;
}

/**
 * Starts the OpenTelemetry SDK when {@link tracingEnabled} says so: OTLP export of spans as the
 * standard `OTEL_*` variables configure it (endpoint, protocol, `OTEL_TRACES_SAMPLER` /
 * `OTEL_TRACES_SAMPLER_ARG`, batch delays, `OTEL_SERVICE_NAME`, default `poltrona`), W3C trace
 * context propagation, and the instrumentations of this stack (http, express, graphql, pg,
 * ioredis, amqplib). Traces only: metrics stay with Prometheus, logs with pino.
 *
 * Must run before `pg`, `ioredis`, `amqplib`, `express` and `graphql` are first required (the
 * instrumentations patch them as they load): `main.ts` imports `start-tracing.ts` first.
 *
 * @returns whether tracing is now on.
 */
export function startTracing(env: TracingEnvironment = process.env): boolean {
  if (tracing || !tracingEnabled(env)) {
    return tracing;
  }
  // Required here, not imported: a process that does not trace never loads them.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK: Sdk } = require('@opentelemetry/sdk-node') as { NodeSDK: typeof NodeSDK };
  ({ suppressTracing } = require('@opentelemetry/core') as {
    suppressTracing: typeof suppressTracingFunction;
  });
  const { HttpInstrumentation } = require('@opentelemetry/instrumentation-http') as {
    HttpInstrumentation: typeof HttpInstrumentationClass;
  };
  const { ExpressInstrumentation, ExpressLayerType } = require('@opentelemetry/instrumentation-express') as {
    ExpressInstrumentation: typeof ExpressInstrumentationClass;
    ExpressLayerType: typeof ExpressLayerTypeEnum;
  };
  const { GraphQLInstrumentation } = require('@opentelemetry/instrumentation-graphql') as {
    GraphQLInstrumentation: typeof GraphQLInstrumentationClass;
  };
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as {
    PgInstrumentation: typeof PgInstrumentationClass;
  };
  const { IORedisInstrumentation } = require('@opentelemetry/instrumentation-ioredis') as {
    IORedisInstrumentation: typeof IORedisInstrumentationClass;
  };
  const { AmqplibInstrumentation } = require('@opentelemetry/instrumentation-amqplib') as {
    AmqplibInstrumentation: typeof AmqplibInstrumentationClass;
  };
  /* eslint-enable @typescript-eslint/no-require-imports */
  const quietPaths = new Set(['/healthz', '/readyz', '/metrics']);
  sdk = new Sdk({
    serviceName: (env.OTEL_SERVICE_NAME ?? '').trim() === '' ? DEFAULT_SERVICE_NAME : undefined,
    // Traces only: an empty list stops the SDK from starting OTLP metric and log exporters.
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [
      new HttpInstrumentation({
        // Probes and scrapes every few seconds would drown the traces that matter.
        ignoreIncomingRequestHook: (request) => quietPaths.has((request.url ?? '').split('?')[0]),
      }),
      // Spans per request kept to the ones that tell something (a span costs CPU at 100 %
      // sampling): the route, not each middleware; the operation, not each field's resolver.
      new ExpressInstrumentation({ ignoreLayersType: [ExpressLayerType.MIDDLEWARE] }),
      new GraphQLInstrumentation({ ignoreResolveSpans: true, mergeItems: true }),
      // Background statements (the relay's poll every second, the sweeper, the pruner) would
      // each start a trace of their own: only statements inside a traced operation are spans.
      // MikroORM inlines values into its SQL: a span keeps the statement's shape, not its data.
      new PgInstrumentation({
        requireParentSpan: true,
        requestHook: (span, { query }) => {
          span.setAttribute(ATTR_DB_QUERY_TEXT, statementShape(query.text));
        },
      }),
      new IORedisInstrumentation({ requireParentSpan: true }),
      new AmqplibInstrumentation(),
    ],
  });
  sdk.start();
  tracing = true;
  return true;
}

/** Exports the spans still buffered and stops the SDK (graceful shutdown). No-op when off. */
export async function stopTracing(): Promise<void> {
  const running = sdk;
  sdk = null;
  tracing = false;
  await running?.shutdown();
}

/** What a manual span may be given besides its name. */
export interface SpanOptions {
  readonly kind?: SpanKind;
  readonly attributes?: Attributes;
  /** The parent, when it is not the active context (a message's remote parent). */
  readonly parent?: Context;
  /**
   * Make the span only as a child of a recording span: work that is sometimes part of a
   * traced operation and sometimes background (a booking transaction of a request, or of the
   * expiry sweeper) then never starts a trace of its own. Without such a parent, `work` runs
   * with no span, in the context it was called in.
   */
  readonly requireParent?: boolean;
}

/**
 * Runs `work` inside a new active span (so spans made meanwhile, by instrumentations or by
 * `work`, are its children), ending it when `work` returns or settles. A throw or rejection
 * marks the span as failed and is passed on. When tracing is off, simply runs `work`.
 */
export function inSpan<Result>(
  name: string,
  work: (span: Span | undefined) => Result,
  options: SpanOptions = {},
): Result {
  if (!tracing) {
    return work(undefined);
  }
  const parent = options.parent ?? context.active();
  if (options.requireParent && !trace.getSpan(parent)?.isRecording()) {
    return work(undefined);
  }
  const span = trace
    .getTracer(TRACER_NAME)
    .startSpan(name, { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes }, parent);
  const fail = (error: unknown) => {
    span.recordException(error instanceof Error ? error : String(error));
    span.setStatus({
      code: SpanStatusCode.ERROR,
      message: error instanceof Error ? error.message : String(error),
    });
  };
  let result: Result;
  try {
    result = context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    fail(error);
    span.end();
    throw error;
  }
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => {
        span.end();
        return value;
      },
      (error: unknown) => {
        fail(error);
        span.end();
        throw error;
      },
    ) as Result;
  }
  span.end();
  return result;
}

/**
 * The active trace context as W3C headers, to store with work that continues elsewhere (an
 * outbox row); null when tracing is off or nothing is being traced.
 */
export function captureTraceContext(): TraceCarrier | null {
  if (!tracing || !trace.getSpan(context.active())) {
    return null;
  }
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return Object.keys(carrier).length > 0 ? carrier : null;
}

/**
 * The context of the trace `carrier` holds (a stored outbox row's); undefined when tracing is
 * off or it holds none.
 */
export function storedParent(
  headers: Readonly<Record<string, unknown>> | null | undefined,
): Context | undefined {
  if (!tracing || !headers) {
    return undefined;
  }
  const carrier: TraceCarrier = {};
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value === 'string') {
      carrier[name] = value;
    } else if (Buffer.isBuffer(value)) {
      // AMQP long strings may arrive as bytes.
      carrier[name] = value.toString('utf8');
    }
  }
  const extracted = propagation.extract(ROOT_CONTEXT, carrier);
  return trace.getSpanContext(extracted) ? extracted : undefined;
}

/**
 * The parent of a consumer's span: the trace a message's headers carry; undefined when tracing
 * is off or they carry none. When an instrumentation already made a span of that same trace
 * active (amqplib's consume span), that span stays the parent.
 */
export function remoteParent(
  headers: Readonly<Record<string, unknown>> | null | undefined,
): Context | undefined {
  const extracted = storedParent(headers);
  if (!extracted) {
    return undefined;
  }
  const active = trace.getSpanContext(context.active());
  return active?.traceId === trace.getSpanContext(extracted)?.traceId ? context.active() : extracted;
}

/**
 * Runs `work` outside any trace: background work woken by a traced operation (the relay's
 * drain after a commit, a sweeper's timer armed by a consumer, a subscription's loop started
 * by its first subscriber) must not join that operation's trace. Timers and promises created
 * in `work` keep its (empty) context. Plain call when off.
 */
export function detached<Result>(work: () => Result): Result {
  return tracing ? context.with(ROOT_CONTEXT, work) : work();
}

/**
 * Runs `work` outside any trace with the instrumentations silenced: for work that would
 * otherwise start a trace of its own (a graphql execution of a change that came without a
 * trace, once per event and channel). Plain call when off.
 */
export function untraced<Result>(work: () => Result): Result {
  return tracing && suppressTracing ? context.with(suppressTracing(ROOT_CONTEXT), work) : work();
}

/** Writes the active trace context into `headers` (a message being published). No-op when off. */
export function injectTraceContext(headers: Record<string, unknown>): void {
  if (tracing) {
    propagation.inject(context.active(), headers);
  }
}

// The span an object (a live event) was handed on in, for the code that consumes it later on
// another async path (the shared subscription loop): weak, so it never outlives the event. Its
// SpanContext (ids and flags) only: a Context would hold the live Span objects of the whole
// chain while the event sits in the feed's memory of recent changes.
const spanContexts = new WeakMap<object, SpanContext>();

/** Remembers the active span's context for `item`, read back by {@link contextOf}. No-op when off. */
export function rememberContext(item: object): void {
  if (!tracing) {
    return;
  }
  const spanContext = trace.getSpan(context.active())?.spanContext();
  if (spanContext) {
    spanContexts.set(item, spanContext);
  }
}

/** A context whose parent is the span {@link rememberContext} saw for `item`, if any. */
export function contextOf(item: unknown): Context | undefined {
  if (!tracing || typeof item !== 'object' || item === null) {
    return undefined;
  }
  const spanContext = spanContexts.get(item);
  return spanContext ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : undefined;
}

/** A trace context to run work in, from {@link activeContext}. */
export type TraceParent = Context;

/**
 * The active context, for work that another async path runs on this one's behalf (a hold run
 * in a group commit formed by another request): hand it to {@link withinContext}. Undefined
 * when off.
 */
export function activeContext(): TraceParent | undefined {
  return tracing ? context.active() : undefined;
}

/** Runs `work` in `parent` (from {@link activeContext}); a plain call without one. */
export function withinContext<Result>(parent: TraceParent | undefined, work: () => Result): Result {
  return parent ? context.with(parent, work) : work();
}

/** The longest statement text a database span carries, literals already replaced. */
export const STATEMENT_SHAPE_MAX_LENGTH = 160;

const IDENTIFIER_CHARACTER = /[A-Za-z0-9_$]/;
const DOLLAR_QUOTE = /\$([A-Za-z_][A-Za-z0-9_]*)?\$/y;
const NUMBER = /[0-9]+(\.[0-9]*)?([eE][+-]?[0-9]+)?/y;

/**
 * The shape of a SQL statement, for a span: every literal (`'…'`, `E'…'`, `B'…'`, `X'…'`,
 * `$tag$…$tag$`, numbers) replaced by `?`, runs of white space made one space, and the text cut
 * at `maxLength` characters (`…` marks a cut). Identifiers, quoted ones included, keywords and
 * `$1` parameters stay. MikroORM inlines values (user ids, payloads) into the SQL it sends, and
 * a span must not carry them. Cheap: it stops at the cut, and skips a literal's body with
 * `indexOf`.
 */
export function statementShape(sql: string, maxLength = STATEMENT_SHAPE_MAX_LENGTH): string {
  let shape = '';
  let index = 0;
  const literal = () => {
    shape += '?';
  };
  while (index < sql.length && shape.length < maxLength) {
    const character = sql[index];
    if (character === "'") {
      index = afterQuoted(sql, index, false);
      literal();
    } else if (character === '"') {
      const end = afterQuoted(sql, index, false, '"');
      shape += sql.slice(index, end);
      index = end;
    } else if (character === '$') {
      DOLLAR_QUOTE.lastIndex = index;
      const tag = DOLLAR_QUOTE.exec(sql);
      if (tag) {
        const close = sql.indexOf(tag[0], index + tag[0].length);
        index = close === -1 ? sql.length : close + tag[0].length;
        literal();
      } else {
        // A parameter ($1) or a stray dollar: kept, with its digits.
        let end = index + 1;
        while (end < sql.length && sql[end] >= '0' && sql[end] <= '9') {
          end += 1;
        }
        shape += sql.slice(index, end);
        index = end;
      }
    } else if (character >= '0' && character <= '9') {
      NUMBER.lastIndex = index;
      index += NUMBER.exec(sql)![0].length;
      literal();
    } else if (IDENTIFIER_CHARACTER.test(character)) {
      let end = index + 1;
      while (end < sql.length && IDENTIFIER_CHARACTER.test(sql[end])) {
        end += 1;
      }
      const word = sql.slice(index, end);
      if (sql[end] === "'" && /^[eEbBxXnN]$/.test(word)) {
        // E'…' (backslash escapes), B'…', X'…', N'…': one literal with its prefix.
        index = afterQuoted(sql, end, word === 'e' || word === 'E');
        literal();
      } else {
        shape += word;
        index = end;
      }
    } else if (/\s/.test(character)) {
      while (index < sql.length && /\s/.test(sql[index])) {
        index += 1;
      }
      shape += ' ';
    } else {
      shape += character;
      index += 1;
    }
  }
  shape = shape.trim();
  return index < sql.length || shape.length > maxLength ? `${shape.slice(0, maxLength)}…` : shape;
}

/** The index after the quoted text opening at `start` (a doubled quote is one quote). */
function afterQuoted(sql: string, start: number, backslashEscapes: boolean, quote = "'"): number {
  let index = start + 1;
  while (index < sql.length) {
    const close = sql.indexOf(quote, index);
    if (close === -1) {
      return sql.length;
    }
    if (backslashEscapes) {
      // The quote counts only if an even number of backslashes precede it.
      let backslashes = 0;
      for (let before = close - 1; before >= index && sql[before] === '\\'; before -= 1) {
        backslashes += 1;
      }
      if (backslashes % 2 === 1) {
        index = close + 1;
        continue;
      }
    }
    if (sql[close + 1] === quote) {
      index = close + 2;
      continue;
    }
    return close + 1;
  }
  return sql.length;
}

export { type Span, SpanKind };
