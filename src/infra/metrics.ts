import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The process's Prometheus metrics, on a registry of its own (several apps can live in one
 * process, e.g. in tests). Exposed at `GET /metrics` by every role.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly operationDuration = new Histogram({
    name: 'poltrona_graphql_operation_duration_seconds',
    help: 'GraphQL operation latency, by root field (from the schema), operation type and outcome (ok, or the first error code).',
    labelNames: ['field', 'type', 'outcome'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly reserveOutcomes = new Counter({
    name: 'poltrona_reserve_outcomes_total',
    help: 'reserve calls by outcome: held, or the error code.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly lockConflicts = new Counter({
    name: 'poltrona_seat_lock_conflicts_total',
    help: 'reserve calls turned away by a Redis seat lock, before PostgreSQL.',
    registers: [this.registry],
  });

  readonly consumedMessageAge = new Histogram({
    name: 'poltrona_consumer_message_age_seconds',
    help: 'Time from publication to handling of a consumed message (consumer lag), by consumer.',
    labelNames: ['consumer'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly consumedMessages = new Counter({
    name: 'poltrona_consumer_messages_total',
    help: 'Messages handled by consumers, by consumer and outcome (ok, retried, dead-lettered).',
    labelNames: ['consumer', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly prunedRows = new Counter({
    name: 'poltrona_pruned_rows_total',
    help: 'Rows deleted by the retention pruner, by table (outbox_event, consumed_message, seat_change).',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });

  readonly activeSubscriptions = new Gauge({
    name: 'poltrona_active_subscriptions',
    help: 'GraphQL subscriptions currently open in this process.',
    registers: [this.registry],
  });

  readonly openSockets = new Gauge({
    name: 'poltrona_websocket_connections',
    help: 'Websocket connections currently open in this process.',
    registers: [this.registry],
  });

  readonly openEventStreams = new Gauge({
    name: 'poltrona_sse_connections',
    help: 'Server-Sent Events streams (graphql-sse, one subscription each) currently open in this process.',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'poltrona_' });
  }

  /**
   * `poltrona_dependency_up{dependency}`: 1 when the dependency answers, 0 while this process
   * runs degraded without it (Redis, RabbitMQ) or cannot serve (PostgreSQL). Checked at scrape.
   */
  watchDependencies(check: () => Promise<object>): void {
    new Gauge({
      name: 'poltrona_dependency_up',
      help: 'Whether each dependency answers (1) or not (0); Redis or RabbitMQ at 0 is degraded mode.',
      labelNames: ['dependency'] as const,
      registers: [this.registry],
      async collect() {
        for (const [dependency, up] of Object.entries(await check()) as [string, boolean][]) {
          this.set({ dependency }, up ? 1 : 0);
        }
      },
    });
  }

  /** Gauges read at scrape time (outbox backlog and age, connection pool usage). */
  gaugeAtScrape(name: string, help: string, read: () => Promise<number> | number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        this.set(await read());
      },
    });
  }
}
