import { once } from 'node:events';
import { createServer } from 'node:http';
import { Agent } from 'undici';
import { scale, SMOKE } from './lib/bench-options';
import { postGraphQL } from './lib/load';
import { createSessions, startBenchServer } from './lib/server';
import { percentile } from './lib/stats';

const RESERVE = `mutation ($input: ReserveInput!) { reserve(input: $input) { id } }`;

/** The fields of an OTLP/HTTP JSON span this breakdown reads. */
interface ExportedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly name: string;
  readonly startTimeUnixNano: string;
  readonly endTimeUnixNano: string;
}

interface OtlpExport {
  resourceSpans?: { scopeSpans?: { spans?: ExportedSpan[] }[] }[];
}

const milliseconds = (span: ExportedSpan) =>
  Number(BigInt(span.endTimeUnixNano) - BigInt(span.startTimeUnixNano)) / 1e6;

/**
 * `node dist/bench/latency-breakdown.js`: where one uncontended `reserve` spends its time. ONE
 * client sends reserves one after another to a server traced at 100 % (OTLP/HTTP JSON to a
 * receiver in this process), then the spans of each request's trace are grouped by name: the
 * median and p95 of each, and of the time the HTTP server span spends outside every child span
 * (Express, Apollo, token, context, response). Tracing adds its own cost (BENCHMARKS.md,
 * "Tracing overhead"), so read the shares, not the totals, and compare the printed untraced
 * client latency of the same run.
 */
async function main(): Promise<void> {
  const count = scale(400, 20);
  const spans: ExportedSpan[] = [];
  const receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as OtlpExport;
      for (const resource of body.resourceSpans ?? []) {
        for (const scope of resource.scopeSpans ?? []) {
          spans.push(...(scope.spans ?? []));
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  receiver.listen(0, '127.0.0.1');
  await once(receiver, 'listening');
  const { port } = receiver.address() as { port: number };

  const untraced = await measure(count, {});
  const traced = await measure(count, {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    OTEL_TRACES_SAMPLER: 'always_on',
    OTEL_BSP_SCHEDULE_DELAY: '200',
    OTEL_SERVICE_NAME: 'poltrona-breakdown',
  });
  receiver.close();

  const line = (label: string, values: number[]) => {
    const sorted = [...values].sort((left, right) => left - right);
    return `${label.padEnd(44)} n ${String(values.length).padStart(5)}  p50 ${percentile(sorted, 0.5).toFixed(2).padStart(7)} ms  p95 ${percentile(sorted, 0.95).toFixed(2).padStart(7)} ms`;
  };
  console.log(`one client, ${count} reserves one after another`);
  console.log(line('client latency, tracing off', untraced));
  console.log(line('client latency, tracing on (100 %)', traced));

  // The reserve requests' traces: those whose root is an HTTP server span with a reserve below.
  const byTrace = new Map<string, ExportedSpan[]>();
  for (const span of spans) {
    byTrace.set(span.traceId, [...(byTrace.get(span.traceId) ?? []), span]);
  }
  const byName = new Map<string, number[]>();
  const outside: number[] = [];
  for (const trace of byTrace.values()) {
    const root = trace.find((span) => !span.parentSpanId);
    if (!root || !trace.some((span) => span.name === 'reserve')) {
      continue;
    }
    // Only the request's own spans: the relay, consumers and fan-out happen after the answer.
    const requestEnd = BigInt(root.endTimeUnixNano);
    const inRequest = trace.filter((span) => BigInt(span.endTimeUnixNano) <= requestEnd);
    for (const span of inRequest) {
      byName.set(span.name, [...(byName.get(span.name) ?? []), milliseconds(span)]);
    }
    const children = inRequest.filter((span) => span.parentSpanId === root.spanId);
    outside.push(milliseconds(root) - children.reduce((sum, child) => sum + milliseconds(child), 0));
  }
  console.log('\nspans of the request (server side), by name:');
  const rows = [...byName.entries()].sort(
    (left, right) =>
      percentile(
        [...right[1]].sort((a, b) => a - b),
        0.5,
      ) -
      percentile(
        [...left[1]].sort((a, b) => a - b),
        0.5,
      ),
  );
  for (const [name, values] of rows) {
    console.log(line(name, values));
  }
  console.log(line('HTTP server span outside its children', outside));
}

/** Starts a server with `env`, sends `count` reserves one after another, returns client latencies. */
async function measure(count: number, env: Record<string, string>): Promise<number[]> {
  const server = await startBenchServer(env);
  const agent = new Agent({ connections: 1 });
  try {
    // A few unmeasured first requests: JIT, pools, caches.
    const warmup = SMOKE ? 2 : 20;
    const [session] = await createSessions(server, 1, Math.ceil((count + warmup) / 20) + 1, 20);
    // Five holds per user, within the per-user limit of pending holds.
    const tokens = await Promise.all(
      Array.from({ length: Math.ceil((count + warmup) / 5) }, (_, index) =>
        server.token(`breakdown-${index}`),
      ),
    );
    const latencies: number[] = [];
    for (let index = 0; index < count + warmup; index += 1) {
      const started = performance.now();
      const { json } = await postGraphQL(
        agent,
        server.url,
        JSON.stringify({
          query: RESERVE,
          variables: { input: { sessionId: session.id, seatIds: [session.seatIds[index]] } },
        }),
        tokens[Math.floor(index / 5)],
      );
      if (!json.data?.reserve) {
        throw new Error(`reserve failed: ${JSON.stringify(json)}`);
      }
      if (index >= warmup) {
        latencies.push(performance.now() - started);
      }
    }
    // Give the batch span processor time to export the last spans.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return latencies;
  } finally {
    await agent.close();
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
