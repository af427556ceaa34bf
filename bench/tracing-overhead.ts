import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { type Summary } from './lib/stats';

/**
 * `npm run bench:tracing`: the reserve benchmark against a server with tracing off and one with
 * tracing on (100 % sampled, OTLP/HTTP to a local sink that discards), alternating off, on, off,
 * on in one run, since the machine's speed drifts. Prints each run and the on/off ratios.
 */
async function main(): Promise<void> {
  // The collector stand-in: reads each export in full, answers 200, keeps nothing.
  let exports = 0;
  const sink = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      exports += 1;
      response.writeHead(200, { 'content-type': 'application/x-protobuf' });
      response.end();
    });
  });
  sink.listen(0, '127.0.0.1');
  await once(sink, 'listening');
  const { port } = sink.address() as { port: number };
  const tracingOn = [
    `OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:${port}`,
    'OTEL_TRACES_SAMPLER=always_on',
    'OTEL_SERVICE_NAME=poltrona-bench',
  ].join(' ');
  const extra = process.argv.slice(2);
  const runs: { label: string; results: Record<string, Summary | number> }[] = [];
  try {
    for (const label of ['off', 'on', 'off', 'on']) {
      console.log(`\n=== reserve, tracing ${label}`);
      const before = exports;
      // Async, not execFileSync: the sink in this process must go on answering meanwhile.
      const child = spawn(process.execPath, [join(__dirname, 'reserve.bench.js'), ...extra], {
        stdio: 'inherit',
        env: { ...process.env, BENCH_SERVER_ENV: label === 'on' ? tracingOn : '' },
      });
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) {
        throw new Error(`reserve bench (tracing ${label}) exited ${code}`);
      }
      const results = JSON.parse(
        readFileSync(
          join(
            __dirname,
            '..',
            '..',
            'bench',
            'results',
            `reserve${extra.includes('--smoke') ? '.smoke' : ''}.json`,
          ),
          'utf8',
        ),
      ) as Record<string, Summary | number>;
      runs.push({ label, results });
      console.log(`  span exports received by the sink: ${exports - before}`);
    }
  } finally {
    sink.close();
  }
  const phases = ['steady', 'saturated', 'twoProcesses', 'oneSession'] as const;
  console.log('\nrun  tracing  ' + phases.map((phase) => `${phase} req/s p50/p99 ms`.padEnd(34)).join(''));
  runs.forEach(({ label, results }, index) => {
    const cells = phases.map((phase) => {
      const summary = results[phase] as Summary;
      return `${summary.throughput.toFixed(0)}  ${summary.p50.toFixed(1)}/${summary.p99.toFixed(1)}`.padEnd(
        34,
      );
    });
    console.log(`${String(index + 1).padEnd(5)}${label.padEnd(9)}${cells.join('')}`);
  });
  const mean = (label: string, phase: (typeof phases)[number]) => {
    const chosen = runs
      .filter((run) => run.label === label)
      .map((run) => (run.results[phase] as Summary).throughput);
    return chosen.reduce((sum, value) => sum + value, 0) / chosen.length;
  };
  for (const phase of phases) {
    console.log(
      `${phase}: on / off throughput = ${((mean('on', phase) / mean('off', phase)) * 100).toFixed(0)} %`,
    );
  }
  // Server CPU per reserve answered: less sensitive than throughput to other load on the machine.
  const cpuPhases = [
    ['saturated', 'saturatedCpu'],
    ['twoProcesses', 'twoProcessesCpu'],
  ] as const;
  runs.forEach(({ label, results }, index) => {
    const perReserve = cpuPhases.map(([phase, cpu]) => {
      const milliseconds = ((results[cpu] as number) * 10) / (results[phase] as Summary).throughput;
      return `${phase} ${milliseconds.toFixed(1)}`;
    });
    console.log(`run ${index + 1} (${label}): server CPU ms per reserve: ${perReserve.join(', ')}`);
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
