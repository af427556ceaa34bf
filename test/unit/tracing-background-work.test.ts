import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const SOURCE = join(__dirname, '..', '..', 'src');

/**
 * Background work armed or fed by a traced operation stays out of its trace. Tracing is
 * process-wide, so the checks run in a fresh process with tracing on; nothing is flushed, so
 * the endpoint is never reached.
 */
describe('tracing of background work', () => {
  it('a sweep armed in a consumer span, changes read from the log and untraced subscription executions stay out of every trace', () => {
    const script = `
      const { trace } = require('@opentelemetry/api');
      const tracing = require(${JSON.stringify(join(SOURCE, 'infra', 'tracing'))});
      // Before the rest: the instrumentations patch what loads after (graphql's execute).
      tracing.startTracing();
      const { ExpirySweeper } = require(${JSON.stringify(join(SOURCE, 'workers', 'expiry-sweeper'))});
      const { SeatMapFeed } = require(${JSON.stringify(join(SOURCE, 'live', 'seat-map-feed'))});
      const { createLivePubSub } = require(${JSON.stringify(join(SOURCE, 'live', 'live-pubsub'))});
      // The sweeper's timers are unref'd: this keeps the process up until the checks are done.
      setInterval(() => undefined, 1000);
      const silent = { info() {}, warn() {}, debug() {}, error() {} };
      (async () => {
        const result = {};

        // The expiry consumer asks for an extra sweep from inside its span.
        const swept = new Promise((resolve) => {
          const sweeper = new ExpirySweeper({ em: { fork: () => ({}) } }, async () => {
            resolve(trace.getActiveSpan() === undefined);
            return [];
          }, silent, 3600000);
          sweeper.start();
          tracing.inSpan('expiry process', () => sweeper.sweepIn(0));
        });
        result.sweepOutsideTrace = await swept;

        // A session at version 3 with a live subscriber; then 4 and 5 are committed, and a
        // traced request resumes after 5 before they arrive: the feed reads them from the log.
        const change = (mapVersion) => ({ mapVersion, sessionId: 's1', reservationId: null, seats: [], changedAt: 'now' });
        const log = { current: 3 };
        const store = {
          currentVersions: async () => new Map([['s1', log.current]]),
          replayWindow: async () => ({ current: log.current, oldestKept: 1 }),
          findAfter: async (_id, after, limit) => {
            const changes = [];
            for (let v = after + 1; v <= log.current && changes.length < limit; v += 1) changes.push(change(v));
            return changes;
          },
        };
        const feed = new SeatMapFeed(createLivePubSub(), () => store, silent);
        const stream = await feed.subscribe('s1');
        log.current = 5;
        await tracing.inSpan('resuming request', () => feed.subscribe('s1', 5));
        const fromLog = [(await stream.next()).value, (await stream.next()).value];
        result.fromLog = fromLog.map((event) => [event.mapVersion, tracing.contextOf(event) !== undefined]);

        // A live change, delivered from inside the fan-out consumer's span.
        let fanOut;
        tracing.inSpan('live fan-out', (span) => { fanOut = span; feed.deliver(change(6)); });
        const live = (await stream.next()).value;
        result.liveParent = live.mapVersion === 6 && trace.getSpanContext(tracing.contextOf(live))?.spanId === fanOut.spanContext().spanId;

        // A shared subscription opened by a traced request (an SSE stream's), fed an untraced
        // change: its execution joins neither that request's trace nor a trace of its own.
        const graphql = require('graphql');
        const { SharedSubscriptions } = require(${JSON.stringify(join(SOURCE, 'live', 'shared-subscriptions'))});
        const events = createLivePubSub();
        let executedIn;
        const executed = new Promise((resolve) => (executedIn = resolve));
        const schema = new graphql.GraphQLSchema({
          query: new graphql.GraphQLObjectType({ name: 'Query', fields: { ok: { type: graphql.GraphQLInt } } }),
          subscription: new graphql.GraphQLObjectType({
            name: 'Subscription',
            fields: {
              seatStatusChanged: {
                type: graphql.GraphQLInt,
                args: { sessionId: { type: graphql.GraphQLID } },
                subscribe: () => events.subscribe('seat-status-changed', 's1'),
                resolve: (event) => {
                  // Read now: a span no longer records once it has ended.
                  const span = trace.getActiveSpan();
                  executedIn({ traceId: span?.spanContext().traceId, recording: span?.isRecording() ?? false });
                  return event.mapVersion;
                },
              },
            },
          }),
        });
        let request;
        const subscribed = await tracing.inSpan('sse request', (span) => {
          request = span;
          return new SharedSubscriptions(silent).subscribe({
            schema,
            document: graphql.parse('subscription { seatStatusChanged(sessionId: "s1") }'),
          });
        });
        events.publish('seat-status-changed', 's1', change(7));
        const active = await executed;
        result.untracedExecution = {
          inRequestTrace: active.traceId === request.spanContext().traceId,
          recording: active.recording,
        };
        await subscribed.return(undefined);

        process.stdout.write(JSON.stringify(result));
        process.exit(0);
      })().catch((error) => { console.error(error); process.exit(1); });
    `;
    const output = execFileSync(process.execPath, ['-r', '@swc-node/register', '-e', script], {
      env: { PATH: process.env.PATH ?? '', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' },
      cwd: join(__dirname, '..', '..'),
      encoding: 'utf8',
    });
    expect(JSON.parse(output)).toEqual({
      sweepOutsideTrace: true,
      // Read back from the log: no trace (not the resuming request's).
      fromLog: [
        [4, false],
        [5, false],
      ],
      liveParent: true,
      untracedExecution: { inRequestTrace: false, recording: false },
    });
  });
});
