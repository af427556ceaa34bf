import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CONFIRM_PAYMENT, createSession, RESERVE } from '../support/factories';
import { messagesHandled, metricValue } from '../support/metrics';
import { exportedMetricNames, metricNamesIn, sampledMetricNames } from '../support/promql';
import { type SilentServer, startSilentServer } from '../support/silent-server';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';
import { eventually } from '../support/wait';

const ROOT = join(__dirname, '..', '..');
const DASHBOARD_FILE = 'ops/grafana/dashboards/poltrona.json';
const ALERTS_FILE = 'ops/prometheus/alerts.yml';
const RUNBOOK_FILE = 'docs/runbook.md';

/** Series Prometheus writes itself for each scrape: no application exports them. */
const WRITTEN_BY_PROMETHEUS: ReadonlySet<string> = new Set(['up']);

interface Panel {
  readonly title: string;
  readonly type: string;
  readonly targets?: readonly { readonly expr?: string }[];
  readonly panels?: readonly Panel[];
}

interface AlertRule {
  readonly alert?: unknown;
  readonly expr?: unknown;
  readonly for?: unknown;
  readonly labels?: { readonly severity?: unknown };
  readonly annotations?: { readonly summary?: unknown; readonly runbook_url?: unknown };
}

function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

function dashboardPanels(): Panel[] {
  const dashboard = JSON.parse(read(DASHBOARD_FILE)) as { panels: Panel[] };
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}

function alertRules(): AlertRule[] {
  const rules = parse(read(ALERTS_FILE)) as { groups: { name: string; rules: AlertRule[] }[] };
  return rules.groups.flatMap((group) => group.rules);
}

/** Every PromQL expression of the dashboard and the rules, with where it comes from. */
function expressions(): { where: string; expr: string }[] {
  return [
    ...dashboardPanels().flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}"`, expr: target.expr ?? '' })),
    ),
    ...alertRules().map((rule) => ({ where: `rule ${String(rule.alert)}`, expr: String(rule.expr) })),
  ];
}

/** The anchors GitHub gives the headings of a Markdown file. */
function headingAnchors(markdown: string): Set<string> {
  return new Set(
    markdown
      .split('\n')
      .filter((line) => /^#{1,6} /.test(line))
      .map((line) =>
        line
          .replace(/^#+ /, '')
          .trim()
          .toLowerCase()
          .replace(/[^\p{L}\p{N}\s_-]/gu, '')
          .replace(/\s/g, '-'),
      ),
  );
}

const REFUND_SALE = `mutation Refund($saleId: ID!, $percent: Int, $reason: String) {
  refundSale(saleId: $saleId, percent: $percent, reason: $reason) { id status refund { amountCents } }
}`;
const RESERVE_BEST = `mutation Best($input: BestAvailableInput!) {
  reserveBestAvailable(input: $input) { id totalCents seats { id } }
}`;
const CANCEL = `mutation Cancel($reservationId: ID!) { cancelReservation(reservationId: $reservationId) { id status } }`;

describe('dashboards and alert rules', () => {
  let testApp: TestApp;
  let metricsUrl: string;
  let sessionId: string;

  beforeAll(async () => {
    testApp = await startTestApp();
    metricsUrl = testApp.url.replace(/\/graphql$/, '/metrics');
    // Exercise every business path once, so labelled series have samples too.
    const session = await createSession(testApp, {
      rows: 2,
      seatsPerRow: 4,
      priceCents: 1_000,
      startsAt: new Date(Date.now() + 2 * 3_600_000).toISOString(),
    });
    sessionId = session.id;
    const owner = await testApp.token(uniqueUser());
    const admin = await testApp.token(uniqueUser('admin'), { admin: true });
    const held = await testApp.graphql(
      RESERVE,
      { input: { sessionId, seatIds: [session.seats[0].id, session.seats[1].id] } },
      owner,
    );
    const sale = await testApp.graphql(CONFIRM_PAYMENT, { reservationId: held.data!.reserve.id }, owner);
    const best = await testApp.graphql<{ reserveBestAvailable: { id: string } }>(
      RESERVE_BEST,
      { input: { sessionId, quantity: 2 } },
      owner,
    );
    await testApp.graphql(CANCEL, { reservationId: best.data!.reserveBestAvailable.id }, owner);
    const refunded = await testApp.graphql<{ refundSale: { status: string } }>(
      REFUND_SALE,
      { saleId: sale.data!.confirmPayment.id, percent: 100, reason: 'Projector broke' },
      admin,
    );
    expect(refunded.data?.refundSale.status).toBe('REFUNDED');
    // A hold still running at the end: the session's occupancy is 1 of 8 seats.
    await testApp.graphql(RESERVE, { input: { sessionId, seatIds: [session.seats[7].id] } }, owner);
    // A conflict, so the lock-conflict and error-outcome series exist.
    await testApp.graphql(RESERVE, { input: { sessionId, seatIds: [session.seats[7].id] } }, owner);
    // The receipts consumer handles the payment and the refund (consumer lag series).
    await eventually(async () => (await messagesHandled(metricsUrl, 'receipts')) >= 2, 15_000, 'receipts');
  });

  afterAll(async () => {
    await testApp?.stop();
  });

  it('names only metrics that /metrics exports, in every panel and rule', async () => {
    const text = await (await fetch(metricsUrl)).text();
    const exported = exportedMetricNames(text);
    const sampled = sampledMetricNames(text);
    const all = expressions();
    expect(all.length).toBeGreaterThan(30);
    const unknown: string[] = [];
    const withoutSamples: string[] = [];
    for (const { where, expr } of all) {
      const names = metricNamesIn(expr);
      if (names.length === 0) {
        unknown.push(`${where}: no metric in ${expr}`);
      }
      for (const name of names.filter((name) => !WRITTEN_BY_PROMETHEUS.has(name))) {
        if (!exported.has(name)) {
          unknown.push(`${where}: ${name}`);
        } else if (!sampled.has(name)) {
          withoutSamples.push(`${where}: ${name}`);
        }
      }
    }
    expect(unknown).toEqual([]);
    // Declared is not enough for a panel to draw: after the exercise above, each has data.
    expect(withoutSamples).toEqual([]);
  });

  it('counts holds, sales, refunds and revenue from committed events, reserveBestAvailable included', async () => {
    const value = (name: string, labels?: Record<string, string>) => metricValue(metricsUrl, name, labels);
    expect(await value('poltrona_holds_total')).toBe(3);
    expect(await value('poltrona_held_seats_total')).toBe(5);
    expect(await value('poltrona_reserve_outcomes_total', { outcome: 'held' })).toBe(3);
    expect(await value('poltrona_holds_ended_total', { reason: 'cancelled' })).toBe(1);
    expect(await value('poltrona_sales_total')).toBe(1);
    expect(await value('poltrona_sold_seats_total')).toBe(2);
    expect(await value('poltrona_revenue_cents_total')).toBe(2_000);
    expect(await value('poltrona_refunds_total')).toBe(1);
    expect(await value('poltrona_refunded_cents_total')).toBe(2_000);
    expect(await value('poltrona_http_responses_total', { code: '2xx' })).toBeGreaterThan(0);
  });

  it('reports occupancy per session, queue depths and Redis memory at scrape', async () => {
    const value = (name: string, labels?: Record<string, string>) => metricValue(metricsUrl, name, labels);
    expect(await value('poltrona_session_occupancy_ratio', { session_id: sessionId })).toBe(1 / 8);
    expect(await value('poltrona_session_seats', { session_id: sessionId, state: 'held' })).toBe(1);
    expect(await value('poltrona_session_seats', { session_id: sessionId, state: 'sold' })).toBe(0);
    expect(await value('poltrona_session_seats', { session_id: sessionId, state: 'available' })).toBe(7);
    expect(await value('poltrona_session_capacity_seats', { session_id: sessionId })).toBe(8);
    const seatsText = await (await fetch(metricsUrl)).text();
    expect(seatsText).not.toMatch(/^poltrona_session_seats\{[^}]*state="capacity"/m);
    expect(await value('poltrona_sessions_in_occupancy_window')).toBe(1);
    const text = await (await fetch(metricsUrl)).text();
    for (const queue of ['expiry.delay', 'expiry', 'receipts', 'dead-letter', 'live']) {
      expect(text).toMatch(new RegExp(`^poltrona_rabbitmq_queue_messages\\{queue="${queue}"\\} \\d+$`, 'm'));
    }
    // The running hold's expiry message waits in the delay queue.
    expect(await value('poltrona_rabbitmq_queue_messages', { queue: 'expiry.delay' })).toBeGreaterThan(0);
    expect(await value('poltrona_rabbitmq_queue_consumers', { queue: 'receipts' })).toBe(1);
    expect(await value('poltrona_redis_memory_used_bytes')).toBeGreaterThan(0);
    expect(text).toMatch(/^poltrona_redis_memory_max_bytes \d+$/m);
    expect(text).toMatch(/^poltrona_redis_memory_max_ratio [\d.e+-]+$/m);
    // Every read answered: no failure counted.
    expect(text).not.toMatch(/^poltrona_scrape_read_failures_total\{/m);
  });

  it('counts nothing for an idempotent replay of reserve (same idempotencyKey twice)', async () => {
    const value = (name: string) => metricValue(metricsUrl, name);
    // Beyond the occupancy window, so the occupancy expectations above stay those of one session.
    const session = await createSession(testApp, {
      rows: 1,
      seatsPerRow: 4,
      startsAt: new Date(Date.now() + 72 * 3_600_000).toISOString(),
    });
    const owner = await testApp.token(uniqueUser());
    const input = {
      sessionId: session.id,
      seatIds: [session.seats[0].id, session.seats[1].id],
      idempotencyKey: `dashboards-replay-${session.id}`,
    };
    const holdsBefore = await value('poltrona_holds_total');
    const seatsBefore = await value('poltrona_held_seats_total');
    const first = await testApp.graphql<{ reserve: { id: string } }>(RESERVE, { input }, owner);
    expect(first.errors).toBeUndefined();
    expect(await value('poltrona_holds_total')).toBe(holdsBefore + 1);

    const replay = await testApp.graphql<{ reserve: { id: string } }>(RESERVE, { input }, owner);
    expect(replay.errors).toBeUndefined();
    expect(replay.data!.reserve.id).toBe(first.data!.reserve.id);
    expect(await value('poltrona_holds_total')).toBe(holdsBefore + 1);
    expect(await value('poltrona_held_seats_total')).toBe(seatsBefore + 2);
  });

  it('has well-formed rules, each with a severity, a summary and a runbook section that exists', () => {
    const anchors = headingAnchors(read(RUNBOOK_FILE));
    const rules = alertRules();
    const problems: string[] = [];
    const names = new Set<string>();
    for (const rule of rules) {
      const name = String(rule.alert);
      if (typeof rule.alert !== 'string' || !/^[A-Z][A-Za-z0-9]+$/.test(rule.alert)) {
        problems.push(`alert name ${name}`);
      }
      if (names.has(name)) {
        problems.push(`${name}: defined twice`);
      }
      names.add(name);
      if (typeof rule.expr !== 'string' || rule.expr.trim() === '') {
        problems.push(`${name}: expr`);
      }
      if (typeof rule.for !== 'string' || !/^\d+[smh]$/.test(rule.for)) {
        problems.push(`${name}: for`);
      }
      if (!['critical', 'warning', 'info'].includes(String(rule.labels?.severity))) {
        problems.push(`${name}: labels.severity`);
      }
      if (typeof rule.annotations?.summary !== 'string' || rule.annotations.summary === '') {
        problems.push(`${name}: annotations.summary`);
      }
      const runbook = String(rule.annotations?.runbook_url);
      const [path, anchor] = runbook.split('#');
      if (path !== RUNBOOK_FILE || !anchor || !anchors.has(anchor)) {
        problems.push(`${name}: runbook_url ${runbook} (no such section in ${RUNBOOK_FILE})`);
      }
      if (!anchors.has(`alert-${name.toLowerCase()}`)) {
        problems.push(`${name}: no "Alert: ${name}" section in ${RUNBOOK_FILE}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('has every alert of seed 004: error rate > 1 %, p95 > 500 ms, queue > 1,000 messages, Redis memory > 80 %, and dependencies down', () => {
    const byName = new Map(alertRules().map((rule) => [String(rule.alert), String(rule.expr)]));
    const expectRule = (name: string, ...fragments: RegExp[]) => {
      const expr = byName.get(name);
      expect(expr).toBeDefined();
      for (const fragment of fragments) {
        expect(expr).toMatch(fragment);
      }
    };
    expectRule('PoltronaHighErrorRate', /INTERNAL_SERVER_ERROR/, /> 0\.01\b/, /code="5xx"/);
    // A minimum of traffic on each branch: one error among a few requests does not page.
    expect(
      byName.get('PoltronaHighErrorRate')?.match(/and on \(\)\s+sum\(rate\([^)]*\)\) > 0\.2\b/g),
    ).toHaveLength(2);
    expectRule('PoltronaHighLatency', /histogram_quantile\(0\.95,/, /_bucket/, /> 0\.5\b/);
    expectRule('PoltronaQueueBacklog', /poltrona_rabbitmq_queue_messages/, /> 1000\b/);
    // The fullest master, not the sum over a cluster's masters.
    expectRule('PoltronaRedisMemoryHigh', /max\(poltrona_redis_memory_max_ratio\) > 0\.8\b/);
    expectRule('PoltronaPostgresDown', /poltrona_dependency_up\{dependency="postgres"\} *\)? *== 0/);
    expectRule('PoltronaDependencyDegraded', /dependency=~"redis\|rabbitmq"/, /== 0/);
  });
});

describe('scrape-time gauges with Redis and RabbitMQ away', () => {
  /** Far above the scrape's own bound on each read: only a scrape that waits on a hung dependency reaches it. */
  const HANG_GUARD_MILLISECONDS = 20_000;
  let testApp: TestApp;
  let silentRedis: SilentServer;
  let silentBroker: SilentServer;

  beforeAll(async () => {
    // Both dependencies accept connections and never answer (degraded mode from the start):
    // a scrape that waited on either would hang, where a closed port would fail it at once.
    silentRedis = await startSilentServer();
    silentBroker = await startSilentServer();
    testApp = await startTestApp({
      REDIS_URL: `redis://127.0.0.1:${silentRedis.port}`,
      AMQP_URL: `amqp://guest:guest@127.0.0.1:${silentBroker.port}`,
    });
  });

  afterAll(async () => {
    // Not testApp.stop(): it would clean the topology up on a broker this app never reached.
    await testApp?.app.stop();
    await silentRedis?.close();
    await silentBroker?.close();
  });

  it('still answers /metrics with Redis and RabbitMQ hung: no Redis memory sample, no queue series, the failed reads counted', async () => {
    // The app's clients are connected to the silent servers: the scrape meets hung dependencies.
    await eventually(() => silentRedis.connections > 0 && silentBroker.connections > 0);
    const metricsUrl = testApp.url.replace(/\/graphql$/, '/metrics');
    const response = await fetch(metricsUrl, { signal: AbortSignal.timeout(HANG_GUARD_MILLISECONDS) });
    expect(response.status).toBe(200);
    const text = await response.text();
    // No made-up 0 (it would reset the alerts' `for:` windows): no sample at all, and the failure counted.
    for (const gauge of [
      'poltrona_redis_memory_used_bytes',
      'poltrona_redis_memory_max_bytes',
      'poltrona_redis_memory_max_ratio',
    ]) {
      expect(text).toContain(`# TYPE ${gauge} gauge`);
      expect(text).not.toMatch(new RegExp(`^${gauge} `, 'm'));
      expect(text).toMatch(
        new RegExp(`^poltrona_scrape_read_failures_total\\{gauge="${gauge}"\\} [1-9]\\d*$`, 'm'),
      );
    }
    expect(text).not.toMatch(/^poltrona_rabbitmq_queue_messages\{/m);
    expect(text).toContain('poltrona_dependency_up{dependency="redis"} 0');
    expect(text).toContain('poltrona_dependency_up{dependency="rabbitmq"} 0');
    expect(text).toMatch(/^poltrona_sessions_in_occupancy_window 0$/m);
  });
});
