/** Latency summary of one measured run. */
export interface Summary {
  readonly count: number;
  readonly errors: number;
  readonly seconds: number;
  readonly throughput: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
  /** Of the errors: requests given up on unanswered (constant-rate runs of an overloaded server). */
  readonly abandoned?: number;
}

/** The value below which `fraction` of the sorted samples fall (nearest rank). */
export function percentile(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank];
}

/** Summarises latencies (milliseconds) of `count` requests over `seconds`. */
export function summarise(latencies: readonly number[], errors: number, seconds: number): Summary {
  const sorted = [...latencies].sort((left, right) => left - right);
  return {
    count: latencies.length,
    errors,
    seconds,
    throughput: latencies.length / seconds,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

export function formatSummary(label: string, summary: Summary): string {
  const ms = (value: number) => `${value.toFixed(1)} ms`;
  return `${label.padEnd(34)} ${summary.throughput.toFixed(0).padStart(6)} req/s  p50 ${ms(summary.p50).padStart(9)}  p95 ${ms(
    summary.p95,
  ).padStart(
    9,
  )}  p99 ${ms(summary.p99).padStart(9)}  errors ${summary.errors}/${summary.count + summary.errors}${
    summary.abandoned ? ` (${summary.abandoned} abandoned unanswered)` : ''
  }`;
}
