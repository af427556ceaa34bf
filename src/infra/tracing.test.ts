import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  captureTraceContext,
  contextOf,
  inSpan,
  isTracing,
  rememberContext,
  remoteParent,
  statementShape,
  tracingEnabled,
} from './tracing';

describe('tracingEnabled', () => {
  it.each([
    [{}, false],
    [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }, true],
    [{ OTEL_TRACES_EXPORTER: 'otlp' }, true],
    [{ OTEL_TRACES_EXPORTER: 'console' }, true],
    // docker compose passes `${VAR:-}`: empty means unset.
    [
      { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: ' ', OTEL_TRACES_EXPORTER: '' },
      false,
    ],
    [{ OTEL_TRACES_EXPORTER: 'none' }, false],
    [{ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'true', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, false],
    [{ OTEL_SDK_DISABLED: 'TRUE', OTEL_TRACES_EXPORTER: 'otlp' }, false],
    [{ OTEL_SDK_DISABLED: 'false', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    [{ OTEL_SDK_DISABLED: '', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }, true],
    // Sampling alone names no destination.
    [{ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }, false],
    [{ OTEL_SERVICE_NAME: 'poltrona' }, false],
  ])('%j → %s', (env, enabled) => {
    expect(tracingEnabled(env)).toBe(enabled);
  });
});

describe('the helpers when tracing is off', () => {
  it('are pass-throughs: no span, no context, nothing remembered', async () => {
    expect(isTracing()).toBe(false);
    const work = Promise.resolve(42);
    let given: unknown = 'unset';
    // The very same promise back: no wrapper, no span.
    expect(
      inSpan('anything', (span) => {
        given = span;
        return work;
      }),
    ).toBe(work);
    expect(given).toBeUndefined();
    expect(inSpan('sync', () => 'value')).toBe('value');
    expect(() =>
      inSpan('throws', () => {
        throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(captureTraceContext()).toBeNull();
    expect(
      remoteParent({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
    ).toBeUndefined();
    const event = {};
    rememberContext(event);
    expect(contextOf(event)).toBeUndefined();
  });
});

describe('startTracing', () => {
  // A fresh process, so its module cache shows what starting tracing loaded.
  const loadedAfterStart = (env: Record<string, string>): { tracing: boolean; sdkLoaded: boolean } => {
    const script = `
      const tracing = require(${JSON.stringify(join(__dirname, 'tracing'))});
      const on = tracing.startTracing();
      const sdkLoaded = Object.keys(require.cache).some((path) => /@opentelemetry[\\\\/](sdk-node|instrumentation-)/.test(path));
      process.stdout.write(JSON.stringify({ tracing: on, sdkLoaded }));
      tracing.stopTracing().then(() => process.exit(0));
    `;
    const output = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
      env: { PATH: process.env.PATH ?? '', ...env },
      cwd: join(__dirname, '..', '..'),
      encoding: 'utf8',
    });
    return JSON.parse(output) as { tracing: boolean; sdkLoaded: boolean };
  };

  it('off by default: the SDK and the instrumentations are not even loaded', () => {
    expect(loadedAfterStart({ OTEL_EXPORTER_OTLP_ENDPOINT: '' })).toEqual({
      tracing: false,
      sdkLoaded: false,
    });
  });

  it('on with an endpoint: the SDK starts with the instrumentations', () => {
    // Nothing listens there: the exporter is never reached (no span is made).
    expect(loadedAfterStart({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' })).toEqual({
      tracing: true,
      sdkLoaded: true,
    });
  });
});

/**
 * Runs `body` in a fresh process with tracing on (tracing is process-wide) and returns the
 * `result` it sets. `tracing` is this module; nothing is exported (no flush), so the endpoint is
 * never reached.
 */
function resultWithTracingOn(body: string): unknown {
  const script = `
    const tracing = require(${JSON.stringify(join(__dirname, 'tracing'))});
    tracing.startTracing();
    let result;
    ${body}
    process.stdout.write(JSON.stringify(result));
    process.exit(0);
  `;
  const output = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
    env: { PATH: process.env.PATH ?? '', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
    cwd: join(__dirname, '..', '..'),
    encoding: 'utf8',
  });
  return JSON.parse(output);
}

describe('the helpers when tracing is on', () => {
  // A fresh process (tracing is process-wide); nothing is exported (no flush), so the
  // endpoint is never reached.
  it('make a span only under a recording parent when asked, keep only span ids for events, and detach and silence work', () => {
    const result = resultWithTracingOn(`
      const { trace } = require('@opentelemetry/api');
      result = {};
      result.orphanSpan = tracing.inSpan('orphan', (span) => span === undefined ? 'none' : 'made', { requireParent: true });
      result.childSpan = tracing.inSpan('outer', () =>
        tracing.inSpan('inner', (span) => span !== undefined && span.isRecording(), { requireParent: true }));
      const event = {};
      let outer;
      tracing.inSpan('outer', (span) => { outer = span; tracing.rememberContext(event); });
      const remembered = tracing.contextOf(event);
      result.sameSpanId = trace.getSpanContext(remembered).spanId === outer.spanContext().spanId;
      result.liveSpanKept = trace.getSpan(remembered) === outer;
      result.detachedSpan = tracing.inSpan('outer', () => tracing.detached(() => trace.getActiveSpan() === undefined));
      result.untracedRecords = tracing.untraced(() => tracing.inSpan('silenced', (span) => span.isRecording()));
    `);
    expect(result).toEqual({
      orphanSpan: 'none',
      childSpan: true,
      sameSpanId: true,
      liveSpanKept: false,
      detachedSpan: true,
      untracedRecords: false,
    });
  });
});

describe('trace context from the outside (message headers, stored rows) when tracing is on', () => {
  // A fresh process again. Headers come from the broker and rows from the database: anything
  // malformed is no parent, never a throw that would fail the consumer or the relay.
  it('takes a well-formed traceparent, as text or bytes, and ignores every malformed one', () => {
    const result = resultWithTracingOn(`
      const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
      const hostile = [
        null,
        undefined,
        {},
        { traceparent: 42 },
        { traceparent: ['00', 'x'] },
        { traceparent: 'garbage' },
        { traceparent: '00-00000000000000000000000000000000-0000000000000000-01' },
        { traceparent: valid.toUpperCase() + '-extra' },
        { traceparent: Buffer.from([0xff, 0xfe, 0x00]) },
        { traceparent: 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
        { traceparent: valid.slice(0, 20), tracestate: 'x'.repeat(100000) },
      ];
      result = {
        text: tracing.storedParent({ traceparent: valid }) !== undefined,
        bytes: tracing.remoteParent({ traceparent: Buffer.from(valid) }) !== undefined,
        hostile: hostile.map((headers) => tracing.remoteParent(headers) === undefined),
      };
    `);
    expect(result).toEqual({ text: true, bytes: true, hostile: Array(11).fill(true) });
  });
});

describe('statementShape', () => {
  it.each([
    [
      `select * from "session" where "id" = '0190c0de-7d1f-7000-8000-000000000001' limit 1`,
      'select * from "session" where "id" = ? limit ?',
    ],
    [
      `insert into "outbox_event" ("id", "payload") values ('a', '{"userId":"u-42"}')`,
      'insert into "outbox_event" ("id", "payload") values (?, ?)',
    ],
    // Doubled quotes and backslash escapes stay inside their literal.
    [`select 'it''s', E'a\\'b', 'c\\' from t`, `select ?, ?, ? from t`],
    [`select $$secret$$, $x$more$x$, $1 from "t1"`, 'select ?, ?, $1 from "t1"'],
    [`update t set n = 3.5e2, x = X'ff', v = -7`, 'update t set n = ?, x = ?, v = -?'],
    [`select "a""b" from t\n   where\tc in (1, 2)`, 'select "a""b" from t where c in (?, ?)'],
  ])('%j keeps the shape, not the values', (sql, shape) => {
    expect(statementShape(sql)).toBe(shape);
  });

  it('cuts long statements, and never lets a literal cut in two leak its tail', () => {
    const sql = `insert into "t" ("payload") values ('${'secret '.repeat(1_000)}'), ('${'x'.repeat(50)}')`;
    const shape = statementShape(sql, 40);
    expect(shape).toBe('insert into "t" ("payload") values (?),…');
    expect(shape).not.toContain('secret');
    expect(statementShape(`select '${'y'.repeat(500)}`, 20)).toBe('select ?');
    expect(statementShape('select 1', 20)).toBe('select ?');
  });
});
