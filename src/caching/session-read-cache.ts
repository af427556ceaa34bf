import { type FormattedExecutionResult } from 'graphql';
import { foldIdCase } from '../infra/uuid';
import { type BookingEvent } from '../booking/booking-events';
import { ALL_SESSIONS } from './session-reads';

/** Entries beyond this many push out the least recently used, whatever their size. */
const DEFAULT_MAX_ENTRIES = 1_000;

/** A result bigger than this share of the byte budget is not stored (it would push out most others). */
const LARGEST_ENTRY_SHARE = 4;

/** How {@link SessionReadCache} is bounded: `config.sessionCache` fits. */
export interface SessionReadCacheOptions {
  /** Longest reuse of a result; 0 turns the cache off. */
  readonly maxAgeMilliseconds: number;
  /** Most bytes of stored results and their keys (`SESSION_CACHE_MAX_BYTES`). */
  readonly maxBytes: number;
  /** Most stored results (default 1,000). */
  readonly maxEntries?: number;
}

/**
 * Epoch milliseconds now: the process's clock, which measures how long an entry has been kept.
 * Booking time itself (when a hold ends) is the database's (`infra/clock.ts`); the hold ends the
 * cache compares with this clock come from the data, and an entry never outlives
 * `SESSION_CACHE_MAX_AGE_MS`, so a skew between the two clocks moves an entry's end by that
 * skew at most, and never past the maximum age.
 */
export type MillisecondClock = () => number;

/**
 * When the earliest hold still running among `sessionIds` ends (null: none), read from the
 * data. {@link ALL_SESSIONS} among them stands for every session. A hold ends by the clock
 * alone (its seat reads AVAILABLE from then on, before any event says so), so a result read
 * while it ran must not outlive it.
 */
export type NextHoldEnd = (sessionIds: readonly string[]) => Promise<Date | null>;

/** What {@link SessionReadCache} asks of the rest of the service. */
export interface SessionReadCachePorts {
  readonly nextHoldEnd: NextHoldEnd;
  /** Defaults to `Date.now`. */
  readonly clock?: MillisecondClock;
}

interface Entry {
  readonly result: FormattedExecutionResult;
  /** Estimated memory: see {@link SessionReadCache}. */
  readonly bytes: number;
  /** The sessions it read, or {@link ALL_SESSIONS} for a list. */
  readonly dependencies: readonly string[];
  readonly validUntil: number;
}

/** One execution whose result concurrent identical requests wait for. */
export interface Flight {
  readonly dependencies: readonly string[];
  /** A session it read changed while it ran: its result must not be stored or shared. */
  stale: boolean;
  readonly result: Promise<FormattedExecutionResult | null>;
  /** Until when its result may be reused, by the data (holds running when it began). */
  readonly validUntil: Promise<number>;
  settle(result: FormattedExecutionResult | null): void;
}

/**
 * Results of public session queries (seat maps, session lists), reused until a seat of their
 * session changes (any session, for lists, or a new session).
 *
 * Each process drops a session's entries when it commits a change to that session and when
 * the change's event reaches its live queue (changes made by other processes), so a reader
 * may see another process's change only as late as a subscriber would. An entry also ends
 * when a hold of its sessions ends ({@link NextHoldEnd}, asked when its execution begins, so
 * a hold ending while it runs still bounds it) and after `maxAge` whatever happens, which
 * bounds staleness if events stop arriving. Identical requests that miss at the same time
 * share one execution.
 *
 * Memory is bounded in bytes (`maxBytes`) and entries: an entry is estimated at its key's
 * length plus twice its JSON's (the JSON kept for hits, and the result object it was written
 * from, of similar size); one above a quarter of the budget is not stored, and the least
 * recently used entries make room for a new one.
 */
export class SessionReadCache {
  private readonly entries = new Map<string, Entry>();
  private readonly keysByDependency = new Map<string, Set<string>>();
  private readonly flights = new Map<string, Flight>();
  /**
   * The whole response body of stored results (`{"data":…}` and its newline), by their data:
   * written once and sent as is on every hit, so a hit makes no 45 KB string of its own.
   */
  private readonly serialized = new WeakMap<object, string>();
  private readonly maxAgeMilliseconds: number;
  private readonly maxBytes: number;
  private readonly maxEntries: number;
  private readonly nextHoldEnd: NextHoldEnd;
  private readonly now: MillisecondClock;
  private storedBytes = 0;

  constructor(options: SessionReadCacheOptions, ports: SessionReadCachePorts) {
    this.maxAgeMilliseconds = options.maxAgeMilliseconds;
    this.maxBytes = options.maxBytes;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.nextHoldEnd = ports.nextHoldEnd;
    this.now = ports.clock ?? Date.now;
  }

  get enabled(): boolean {
    return this.maxAgeMilliseconds > 0;
  }

  /** What is stored now: entries, and their estimated bytes. */
  get footprint(): { readonly entries: number; readonly bytes: number } {
    return { entries: this.entries.size, bytes: this.storedBytes };
  }

  /** A stored result that is still valid, if any. */
  lookup(key: string): FormattedExecutionResult | null {
    const entry = this.entries.get(key);
    if (!entry) {
      return null;
    }
    if (entry.validUntil <= this.now()) {
      this.remove(key);
      return null;
    }
    // Most recently used last: eviction takes from the front.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.result;
  }

  /** The running execution of the same request, if one started since the last change. */
  inFlight(key: string): Promise<FormattedExecutionResult | null> | null {
    return this.flights.get(key)?.result ?? null;
  }

  /**
   * This request executes; later identical requests wait for it. The end of the holds it may
   * read is asked now, in parallel with the execution.
   */
  begin(key: string, dependencies: readonly string[]): Flight {
    let settle: (result: FormattedExecutionResult | null) => void = () => undefined;
    const result = new Promise<FormattedExecutionResult | null>((resolve) => (settle = resolve));
    const validUntil = this.nextHoldEnd(dependencies).then(
      (end) => end?.getTime() ?? Number.POSITIVE_INFINITY,
      // Unknown validity: the result is answered but not kept.
      () => Number.NEGATIVE_INFINITY,
    );
    const flight: Flight = { dependencies, stale: false, result, validUntil, settle };
    this.flights.set(key, flight);
    return flight;
  }

  /**
   * The execution of `flight` ended with `result` (null: failed or not cacheable). Waiters
   * get it at once, as they arrived before any change; it is stored, until the first hold
   * end or the maximum age, unless a session it read changed meanwhile.
   */
  async finish(key: string, flight: Flight, result: FormattedExecutionResult | null): Promise<void> {
    flight.settle(result);
    if (result !== null && !flight.stale) {
      // Still registered while its validity is awaited, so a change meanwhile marks it stale.
      const validUntil = await flight.validUntil;
      if (!flight.stale) {
        this.store(
          key,
          result,
          flight.dependencies,
          Math.min(validUntil, this.now() + this.maxAgeMilliseconds),
        );
      }
    }
    if (this.flights.get(key) === flight) {
      this.flights.delete(key);
    }
  }

  /**
   * Apollo's `stringifyResult`: a stored result's data is serialised once, not on every hit
   * (a 500-seat map is ~45 KB of JSON). Output is byte-for-byte Apollo's own.
   */
  readonly stringifyResult = (value: FormattedExecutionResult): string => {
    const { data } = value;
    if (data && value.errors === undefined && value.extensions === undefined) {
      const body = this.serialized.get(data);
      if (body !== undefined) {
        return body;
      }
    }
    return `${JSON.stringify(value)}\n`;
  };

  /** Committed events (this process's or any process's): their sessions' results are dropped. */
  readonly invalidate = (events: readonly BookingEvent[]): void => {
    if (events.length === 0) {
      return;
    }
    for (const sessionId of new Set(events.map(({ payload }) => foldIdCase(payload.sessionId)))) {
      this.drop(sessionId);
    }
    this.drop(ALL_SESSIONS);
  };

  /** A session was created: lists of sessions are dropped. */
  readonly sessionCreated = (): void => {
    this.drop(ALL_SESSIONS);
  };

  private store(
    key: string,
    result: FormattedExecutionResult,
    dependencies: readonly string[],
    until: number,
  ): void {
    if (until <= this.now()) {
      return;
    }
    this.remove(key);
    const json = result.data ? JSON.stringify(result.data) : JSON.stringify(result);
    const bytes = key.length + 2 * json.length;
    if (bytes > this.maxBytes / LARGEST_ENTRY_SHARE) {
      return;
    }
    while (
      this.entries.size > 0 &&
      (this.entries.size >= this.maxEntries || this.storedBytes + bytes > this.maxBytes)
    ) {
      this.remove(this.entries.keys().next().value as string);
    }
    this.entries.set(key, { result, bytes, dependencies, validUntil: until });
    this.storedBytes += bytes;
    if (result.data) {
      this.serialized.set(result.data, `{"data":${json}}\n`);
    }
    for (const dependency of dependencies) {
      let keys = this.keysByDependency.get(dependency);
      if (!keys) {
        keys = new Set();
        this.keysByDependency.set(dependency, keys);
      }
      keys.add(key);
    }
  }

  private drop(dependency: string): void {
    for (const key of this.keysByDependency.get(dependency) ?? []) {
      this.remove(key);
    }
    for (const [key, flight] of this.flights) {
      if (flight.dependencies.includes(dependency)) {
        flight.stale = true;
        this.flights.delete(key);
      }
    }
  }

  private remove(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) {
      return;
    }
    this.entries.delete(key);
    this.storedBytes -= entry.bytes;
    for (const dependency of entry.dependencies) {
      const keys = this.keysByDependency.get(dependency);
      keys?.delete(key);
      if (keys?.size === 0) {
        this.keysByDependency.delete(dependency);
      }
    }
  }
}
