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

  /**
   * Business facts, counted once each from the events of committed booking transactions
   * (`countCommittedFacts` in `booking/business-metrics.ts`), never from a request that may
   * roll back: an idempotent replay or a retried request adds nothing.
   */
  readonly holdsCreated = new Counter({
    name: 'poltrona_holds_total',
    help: 'Reservations created (holds begun), by reserve and reserveBestAvailable alike.',
    registers: [this.registry],
  });

  readonly seatsHeld = new Counter({
    name: 'poltrona_held_seats_total',
    help: 'Seats held by the reservations created.',
    registers: [this.registry],
  });

  readonly holdsEnded = new Counter({
    name: 'poltrona_holds_ended_total',
    help: 'Holds that ended without a sale, by how: expired or cancelled.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly salesConfirmed = new Counter({
    name: 'poltrona_sales_total',
    help: 'Sales confirmed (payments of held reservations).',
    registers: [this.registry],
  });

  readonly seatsSold = new Counter({
    name: 'poltrona_sold_seats_total',
    help: 'Seats sold by the sales confirmed.',
    registers: [this.registry],
  });

  readonly revenueCents = new Counter({
    name: 'poltrona_revenue_cents_total',
    help: 'Amount of the sales confirmed, in cents (gross: net = this - poltrona_refunded_cents_total).',
    registers: [this.registry],
  });

  readonly refunds = new Counter({
    name: 'poltrona_refunds_total',
    help: 'Sales refunded (whatever the percentage, 0 % included).',
    registers: [this.registry],
  });

  readonly refundedCents = new Counter({
    name: 'poltrona_refunded_cents_total',
    help: 'Amount given back by refunds, in cents.',
    registers: [this.registry],
  });

  readonly httpResponses = new Counter({
    name: 'poltrona_http_responses_total',
    help: 'HTTP responses by status class (2xx, 3xx, 4xx, 5xx), GraphQL and refusals before it alike.',
    labelNames: ['code'] as const,
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

  /**
   * Gauges read at scrape time (outbox backlog and age, connection pool usage). A read that
   * fails or takes longer than {@link SCRAPE_READ_TIMEOUT_MILLISECONDS} reports 0 (the
   * dependency's `poltrona_dependency_up` says why) instead of failing the whole scrape.
   */
  gaugeAtScrape(name: string, help: string, read: () => Promise<number> | number): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        this.set((await readWithin(async () => read())) ?? 0);
      },
    });
  }

  /**
   * A labelled gauge read at scrape time: each scrape replaces every series with the ones
   * `read` returns, so a series that is no longer read (a session past its window, a queue
   * gone) disappears. A read that fails or times out reports no series at all; the callers
   * bound how many series `read` may return.
   */
  labelledGaugeAtScrape<Label extends string>(
    name: string,
    help: string,
    labelNames: readonly Label[],
    read: () => Promise<readonly LabelledValue<Label>[]>,
  ): void {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      async collect() {
        const values = await readWithin(read);
        this.reset();
        for (const { labels, value } of values ?? []) {
          this.set(labels as Partial<Record<Label, string>>, value);
        }
      },
    });
  }
}

/** One series of a labelled gauge. */
export interface LabelledValue<Label extends string> {
  readonly labels: Readonly<Record<Label, string>>;
  readonly value: number;
}

/** The longest a scrape waits for one read of a dependency (PostgreSQL, Redis, RabbitMQ). */
export const SCRAPE_READ_TIMEOUT_MILLISECONDS = 2_000;

/**
 * The result of `read`, or undefined when it failed or did not answer within `milliseconds`
 * (it may still finish later; the readers bound their own work as well).
 */
export async function readWithin<Value>(
  read: () => Promise<Value>,
  milliseconds = SCRAPE_READ_TIMEOUT_MILLISECONDS,
): Promise<Value | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), milliseconds);
    timer.unref();
  });
  try {
    return await Promise.race([read().catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * `read`, shared by the gauges of one scrape: calls within `milliseconds` of the last one get
 * its promise, so two gauges fed by one command (Redis's `INFO memory`) cost one round trip.
 */
export function sharedPerScrape<Value>(
  read: () => Promise<Value>,
  milliseconds = 1_000,
): () => Promise<Value> {
  let last: { at: number; value: Promise<Value> } | undefined;
  return () => {
    const now = Date.now();
    if (!last || now - last.at > milliseconds) {
      last = { at: now, value: read() };
    }
    return last.value;
  };
}
