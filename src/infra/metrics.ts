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

  readonly holdGroupSize = new Histogram({
    name: 'poltrona_hold_group_size',
    help: 'Holds per hold transaction (group commit, HOLD_BATCH_MAX): 1 when each ran alone.',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
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
   * Admission control (README, "Overload behaviour"), read at scrape:
   * `poltrona_admission_operations{class,state="running"|"waiting"}` and
   * `poltrona_admission_refused_total{class}` (requests told RATE_LIMITED for lack of room).
   */
  watchAdmission<Kind extends string>(
    classes: readonly Kind[],
    load: (kind: Kind) => { running: number; waiting: number; refused: number },
  ): void {
    new Gauge({
      name: 'poltrona_admission_operations',
      help: 'Operations admitted and running, or waiting for a slot, by admission class (mutation: booking transactions; read: queries).',
      labelNames: ['class', 'state'] as const,
      registers: [this.registry],
      collect() {
        for (const kind of classes) {
          const { running, waiting } = load(kind);
          this.set({ class: kind, state: 'running' }, running);
          this.set({ class: kind, state: 'waiting' }, waiting);
        }
      },
    });
    const reported = new Map<Kind, number>();
    new Counter({
      name: 'poltrona_admission_refused_total',
      help: 'Operations refused by admission control (RATE_LIMITED, retryAfterSeconds), by class.',
      labelNames: ['class'] as const,
      registers: [this.registry],
      collect() {
        // The gate counts; the counter catches up with it at each scrape.
        for (const kind of classes) {
          const refused = load(kind).refused;
          this.inc({ class: kind }, refused - (reported.get(kind) ?? 0));
          reported.set(kind, refused);
        }
      },
    });
  }

  // The scrape-time reads of the scrape under way (see scrapeReadFailures' collect).
  private readonly scrapeReads = new Set<Promise<void>>();

  readonly scrapeReadFailures = new Counter({
    name: 'poltrona_scrape_read_failures_total',
    help: 'Scrape-time reads that failed or timed out, by gauge: that scrape reported no sample for it.',
    labelNames: ['gauge'] as const,
    registers: [this.registry],
    // The registry starts every metric's collect at once, this one first: yield once so the
    // gauges' reads have begun, then wait for them, so a failure shows in the same scrape.
    collect: async () => {
      await Promise.resolve();
      await Promise.allSettled([...this.scrapeReads]);
    },
  });

  /** Runs one collect of a scrape-time gauge, known to {@link scrapeReadFailures} meanwhile. */
  private async scrapeRead(collect: () => Promise<void>): Promise<void> {
    const running = collect();
    this.scrapeReads.add(running);
    try {
      await running;
    } finally {
      this.scrapeReads.delete(running);
    }
  }

  /**
   * Gauges read at scrape time (outbox backlog and age, connection pool usage). A read that
   * fails or takes longer than {@link SCRAPE_READ_TIMEOUT_MILLISECONDS} leaves the gauge without
   * a sample for that scrape (never a made-up 0, which would reset an alert's `for:` window just
   * when a dependency struggles) and counts `poltrona_scrape_read_failures_total{gauge}`; the
   * dependency's `poltrona_dependency_up` says why. The scrape itself never fails.
   */
  gaugeAtScrape(name: string, help: string, read: () => Promise<number> | number): void {
    const failures = this.scrapeReadFailures;
    const scrapeRead = this.scrapeRead.bind(this);
    new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        return scrapeRead(async () => {
          const value = await readWithin(async () => read());
          if (value === undefined) {
            // Not reset(): on a gauge without labels it writes 0. remove() drops the sample.
            this.remove();
            failures.inc({ gauge: name });
          } else {
            this.set(value);
          }
        });
      },
    });
  }

  /**
   * A labelled gauge read at scrape time: each scrape replaces every series with the ones
   * `read` returns, so a series that is no longer read (a session past its window, a queue
   * gone) disappears. A read that fails or times out reports no series at all and counts
   * `poltrona_scrape_read_failures_total{gauge}`; the callers bound how many series `read` may
   * return.
   */
  labelledGaugeAtScrape<Label extends string>(
    name: string,
    help: string,
    labelNames: readonly Label[],
    read: () => Promise<readonly LabelledValue<Label>[]>,
  ): void {
    const failures = this.scrapeReadFailures;
    const scrapeRead = this.scrapeRead.bind(this);
    new Gauge({
      name,
      help,
      labelNames,
      registers: [this.registry],
      collect() {
        return scrapeRead(async () => {
          const values = await readWithin(read);
          this.reset();
          if (values === undefined) {
            failures.inc({ gauge: name });
          }
          for (const { labels, value } of values ?? []) {
            this.set(labels as Partial<Record<Label, string>>, value);
          }
        });
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
 * `read`, shared by the gauges of one scrape: a call while a read is still running gets that
 * read's promise (so overlapping scrapes never stack reads up behind a slow dependency), and a
 * call within `milliseconds` after it settled gets its result, so two gauges fed by one command
 * (Redis's `INFO memory`) cost one round trip.
 */
export function sharedPerScrape<Value>(
  read: () => Promise<Value>,
  milliseconds = 1_000,
): () => Promise<Value> {
  let last: { settledAt: number | null; value: Promise<Value> } | undefined;
  return () => {
    if (last && (last.settledAt === null || Date.now() - last.settledAt <= milliseconds)) {
      return last.value;
    }
    const current: { settledAt: number | null; value: Promise<Value> } = {
      settledAt: null,
      value: Promise.resolve().then(read),
    };
    const settle = () => {
      current.settledAt = Date.now();
    };
    current.value.then(settle, settle);
    last = current;
    return current.value;
  };
}
