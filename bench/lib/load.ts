import { Agent, request } from 'undici';
import { summarise, type Summary } from './stats';

/** One request of a load run: resolves true when the answer was the expected one. */
export type Shot = (agent: Agent) => Promise<boolean>;

/**
 * Open-model load at a constant arrival rate: request i is due at start + i/rate whatever
 * happened to the previous ones, and its latency counts from when it was due, so a slow server
 * cannot hide its queueing (no coordinated omission). Warm-up requests are not counted.
 * Requests still unanswered {@link GIVE_UP_SECONDS} after the last one was due are abandoned
 * (as a user would) and counted as errors, so an overloaded server cannot stretch a run
 * without bound; their count is reported as `abandoned`.
 */
export const GIVE_UP_SECONDS = 15;

/**
 * Fires `total` requests, request i due at start + i / rate whatever happened to the others
 * (an open model), and returns once the last has been fired, with the start and each
 * request's promise. `fire` gets the index and the due time, from which latency counts.
 */
async function fireAtConstantRate(
  rate: number,
  total: number,
  fire: (index: number, due: number) => Promise<void>,
): Promise<{ start: number; inFlight: Promise<void>[] }> {
  const start = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let index = 0; index < total; index += 1) {
    const due = start + (index * 1_000) / rate;
    const wait = due - performance.now();
    if (wait > 1) {
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
    inFlight.push(fire(index, due));
  }
  return { start, inFlight };
}

export async function constantRate(options: {
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly shot: Shot;
  readonly connections?: number;
}): Promise<Summary> {
  const agent = new Agent({
    connections: options.connections ?? 128,
    pipelining: 1,
    keepAliveTimeout: 30_000,
  });
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.round(options.rate * (options.warmupSeconds + options.seconds));
  const warmup = Math.round(options.rate * options.warmupSeconds);
  const { start, inFlight } = await fireAtConstantRate(options.rate, total, (index, due) =>
    options.shot(agent).then(
      (ok) => {
        if (index < warmup) {
          return;
        }
        if (ok) {
          latencies.push(performance.now() - due);
        } else {
          errors += 1;
        }
      },
      () => {
        if (index >= warmup) {
          errors += 1;
        }
      },
    ),
  );
  const everyAnswer = Promise.all(inFlight);
  const givenUp = await Promise.race([
    everyAnswer.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(true), GIVE_UP_SECONDS * 1_000).unref()),
  ]);
  let abandoned = 0;
  if (givenUp) {
    const answered = latencies.length + errors;
    await agent.destroy();
    await everyAnswer;
    abandoned = latencies.length + errors - answered;
  } else {
    await agent.close();
  }
  // Throughput over the time the measured requests really took: an overloaded server takes
  // longer than `seconds` to answer them, and that must show.
  const measuredFrom = start + (warmup * 1_000) / options.rate;
  return {
    ...summarise(latencies, errors, Math.max(options.seconds, (performance.now() - measuredFrom) / 1_000)),
    abandoned,
  };
}

/** Fires `count` requests at once (a burst) and summarises their latencies from the start. */
export async function burst(count: number, shot: Shot): Promise<{ summary: Summary; results: boolean[] }> {
  const agent = new Agent({ connections: count, pipelining: 1 });
  const start = performance.now();
  const latencies: number[] = [];
  const results = await Promise.all(
    Array.from({ length: count }, () =>
      shot(agent).then(
        (ok) => {
          latencies.push(performance.now() - start);
          return ok;
        },
        () => false,
      ),
    ),
  );
  const seconds = (performance.now() - start) / 1_000;
  await agent.close();
  return { summary: summarise(latencies, 0, seconds), results };
}

/** POSTs a GraphQL operation; resolves with the parsed body. */
export async function postGraphQL(
  agent: Agent,
  url: string,
  body: string,
  token?: string,
): Promise<{
  status: number;
  json: { data?: Record<string, unknown>; errors?: { extensions?: { code?: string } }[] };
}> {
  const response = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
  const json = (await response.body.json()) as {
    data?: Record<string, unknown>;
    errors?: { extensions?: { code?: string } }[];
  };
  return { status: response.statusCode, json };
}

/** What became of one request of an open-loop run: an outcome label (e.g. OK, an error code). */
export type LabelledShot = (agent: Agent) => Promise<string>;

/** An open-loop run's answers, by outcome: each outcome's latencies (ms, from when it was due). */
export interface OutcomeRun {
  readonly latencies: ReadonlyMap<string, readonly number[]>;
  /** Requests with no answer within `answerWithinSeconds` of when they were due. */
  readonly unanswered: number;
  /** The measured requests' span: from the first due to the last answer (or give-up). */
  readonly seconds: number;
}

/** The outcome of a request still unanswered {@link OutcomeRun} seconds after it was due. */
export const UNANSWERED = 'unanswered';

/**
 * {@link constantRate}, keeping each request's outcome: request i is due at start + i/rate
 * whatever happened to the others; its latency counts from when it was due; a request
 * unanswered `answerWithinSeconds` after that is counted as {@link UNANSWERED} (its late answer
 * is ignored). Warm-up requests are not counted.
 */
export async function constantRateOutcomes(options: {
  readonly rate: number;
  readonly seconds: number;
  readonly warmupSeconds: number;
  readonly shot: LabelledShot;
  readonly connections?: number;
  readonly answerWithinSeconds: number;
}): Promise<OutcomeRun> {
  const agent = new Agent({
    connections: options.connections ?? 512,
    pipelining: 1,
    keepAliveTimeout: 30_000,
  });
  const latencies = new Map<string, number[]>();
  let unanswered = 0;
  const record = (outcome: string, latency: number) => {
    const list = latencies.get(outcome) ?? [];
    list.push(latency);
    latencies.set(outcome, list);
  };
  const total = Math.round(options.rate * (options.warmupSeconds + options.seconds));
  const warmup = Math.round(options.rate * options.warmupSeconds);
  let lastAnswer = 0;
  const { start, inFlight } = await fireAtConstantRate(options.rate, total, (index, due) => {
    let timer: NodeJS.Timeout | undefined;
    const giveUp = new Promise<string>((resolve) => {
      timer = setTimeout(
        () => resolve(UNANSWERED),
        Math.max(0, due + options.answerWithinSeconds * 1_000 - performance.now()),
      );
    });
    return Promise.race([
      options.shot(agent).catch((error: unknown) => `client error: ${String(error).slice(0, 60)}`),
      giveUp,
    ]).then((outcome) => {
      clearTimeout(timer);
      const now = performance.now();
      if (index < warmup) {
        return;
      }
      lastAnswer = Math.max(lastAnswer, now);
      if (outcome === UNANSWERED) {
        unanswered += 1;
      } else {
        record(outcome, now - due);
      }
    });
  });
  await Promise.all(inFlight);
  await agent.destroy();
  const measuredFrom = start + (warmup * 1_000) / options.rate;
  return {
    latencies,
    unanswered,
    seconds: Math.max(options.seconds, (Math.max(lastAnswer, measuredFrom) - measuredFrom) / 1_000),
  };
}
