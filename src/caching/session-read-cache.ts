import { type ApolloServerPlugin, type GraphQLResponse, HeaderMap } from '@apollo/server';
import {
  type FormattedExecutionResult,
  Kind,
  type OperationDefinitionNode,
  valueFromASTUntyped,
} from 'graphql';
import { type BookingEvent } from '../booking/booking-events';
import { type Context } from '../context';

/** What a `sessions` list depends on: every session (a change to any, or a new one). */
export const ALL_SESSIONS = '*';

/**
 * Root query fields whose answers are public session data, with the argument naming the
 * session they read, or null for a list (which reads {@link ALL_SESSIONS}). Seat maps are the
 * hottest read of an on-sale; their data changes only through committed seat events and the
 * end of holds.
 */
const SESSION_ROOT_FIELDS: ReadonlyMap<string, string | null> = new Map([
  ['session', 'id'],
  ['seats', 'sessionId'],
  ['sessions', null],
]);

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

/** The sessions a query reads, and which of its variables name them. */
interface SessionRead {
  readonly sessionIds: string[];
  readonly idVariables: ReadonlySet<string>;
}

function sessionReadOf(
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
): SessionRead | null {
  if (operation.operation !== 'query') {
    return null;
  }
  const sessionIds: string[] = [];
  const idVariables = new Set<string>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) {
      return null;
    }
    if (selection.name.value === '__typename') {
      continue;
    }
    const argumentName = SESSION_ROOT_FIELDS.get(selection.name.value);
    if (argumentName === null) {
      sessionIds.push(ALL_SESSIONS);
      continue;
    }
    const argument = selection.arguments?.find((candidate) => candidate.name.value === argumentName);
    if (!argument) {
      return null;
    }
    const sessionId = valueFromASTUntyped(argument.value, variables);
    if (typeof sessionId !== 'string') {
      return null;
    }
    if (argument.value.kind === Kind.VARIABLE) {
      idVariables.add(argument.value.name.value);
    }
    // Ids are UUIDs, matched in any case (the services lower-case them), while events name
    // sessions in lower case: an upper-case id must depend on the same session.
    sessionIds.push(sessionId.toLowerCase());
  }
  return { sessionIds, idVariables };
}

/**
 * The sessions a query reads when it reads nothing but public session data (root fields
 * `session`, `seats` and `sessions`, the last depending on {@link ALL_SESSIONS}), lower-cased;
 * null for any other operation, which is never cached.
 */
export function sessionsReadBy(
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
): string[] | null {
  return sessionReadOf(operation, variables)?.sessionIds ?? null;
}

/**
 * The cache key of a public session query: its document's hash, operation name, and the
 * values of the variables it declares (others are ignored by GraphQL, so they must not make
 * new entries), session ids lower-cased so that `ABC…` and `abc…` share one entry.
 */
function sessionReadKey(
  queryHash: string,
  operationName: string | undefined,
  operation: OperationDefinitionNode,
  read: SessionRead,
  variables: Readonly<Record<string, unknown>> | undefined,
): string {
  const declared: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const value = variables?.[name];
    declared[name] = read.idVariables.has(name) && typeof value === 'string' ? value.toLowerCase() : value;
  }
  return `${queryHash}\n${operationName ?? ''}\n${JSON.stringify(declared)}`;
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
interface Flight {
  readonly dependencies: readonly string[];
  /** A session it read changed while it ran: its result must not be stored or shared. */
  stale: boolean;
  readonly result: Promise<FormattedExecutionResult | null>;
  settle(result: FormattedExecutionResult | null): void;
}

/**
 * Results of public session queries (seat maps, session lists), reused until a seat of their
 * session changes (any session, for lists, or a new session).
 *
 * Each process drops a session's entries when it commits a change to that session and when
 * the change's event reaches its live queue (changes made by other processes), so a reader
 * may see another process's change only as late as a subscriber would. An entry also ends
 * when a hold it shows ends (the seat reads AVAILABLE from then on) and after `maxAge`
 * whatever happens, which bounds staleness if events stop arriving. Identical requests that
 * miss at the same time share one execution.
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
  /** The JSON of stored results' data, written once and sent on every hit. */
  private readonly serialized = new WeakMap<object, string>();
  private readonly maxAgeMilliseconds: number;
  private readonly maxBytes: number;
  private readonly maxEntries: number;
  private storedBytes = 0;

  constructor(options: SessionReadCacheOptions) {
    this.maxAgeMilliseconds = options.maxAgeMilliseconds;
    this.maxBytes = options.maxBytes;
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
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
    if (entry.validUntil <= Date.now()) {
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

  /** This request executes; later identical requests wait for it. */
  begin(key: string, dependencies: readonly string[]): Flight {
    let settle: (result: FormattedExecutionResult | null) => void = () => undefined;
    const result = new Promise<FormattedExecutionResult | null>((resolve) => (settle = resolve));
    const flight: Flight = { dependencies, stale: false, result, settle };
    this.flights.set(key, flight);
    return flight;
  }

  /**
   * The execution of `flight` ended with `result` (null: failed or not cacheable). It is
   * stored unless a session it read changed meanwhile; waiters get it either way, as they
   * arrived before that change.
   */
  finish(key: string, flight: Flight, result: FormattedExecutionResult | null, validUntil: number): void {
    if (this.flights.get(key) === flight) {
      this.flights.delete(key);
    }
    flight.settle(result);
    if (result === null || flight.stale) {
      return;
    }
    const until = Math.min(validUntil, Date.now() + this.maxAgeMilliseconds);
    if (until <= Date.now()) {
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
    this.entries.set(key, { result, bytes, dependencies: flight.dependencies, validUntil: until });
    this.storedBytes += bytes;
    if (result.data) {
      this.serialized.set(result.data, json);
    }
    for (const dependency of flight.dependencies) {
      let keys = this.keysByDependency.get(dependency);
      if (!keys) {
        keys = new Set();
        this.keysByDependency.set(dependency, keys);
      }
      keys.add(key);
    }
  }

  /**
   * Apollo's `stringifyResult`: a stored result's data is serialised once, not on every hit
   * (a 500-seat map is ~45 KB of JSON). Output is byte-for-byte Apollo's own.
   */
  readonly stringifyResult = (value: FormattedExecutionResult): string => {
    const { data } = value;
    if (data && value.errors === undefined && value.extensions === undefined) {
      const json = this.serialized.get(data);
      if (json !== undefined) {
        return `{"data":${json}}\n`;
      }
    }
    return `${JSON.stringify(value)}\n`;
  };

  /** Committed events (this process's or any process's): their sessions' results are dropped. */
  readonly invalidate = (events: readonly BookingEvent[]): void => {
    if (events.length === 0) {
      return;
    }
    for (const sessionId of new Set(events.map((event) => event.payload.sessionId.toLowerCase()))) {
      this.drop(sessionId);
    }
    this.drop(ALL_SESSIONS);
  };

  /** A session was created: lists of sessions are dropped. */
  readonly sessionCreated = (): void => {
    this.drop(ALL_SESSIONS);
  };

  /** Drops every result that read `sessionId` (lists of sessions included), stored or being computed. */
  invalidateSession(sessionId: string): void {
    this.drop(sessionId.toLowerCase());
    this.drop(ALL_SESSIONS);
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

function cachedResponse(result: FormattedExecutionResult): GraphQLResponse {
  return {
    http: { status: undefined, headers: new HeaderMap() },
    body: { kind: 'single', singleResult: result },
  };
}

/**
 * Serves public session queries from `cache`: after parsing, validation, limits and rate
 * budget (which every request still pays), before execution.
 */
export function sessionReadCachePlugin(cache: SessionReadCache): ApolloServerPlugin<Context> {
  return {
    requestDidStart: async () => {
      if (!cache.enabled) {
        return {};
      }
      let key: string | null = null;
      let flight: Flight | null = null;
      return {
        responseForOperation: async ({ operation, queryHash, request }) => {
          const read = sessionReadOf(operation, request.variables);
          if (!read || queryHash === undefined) {
            return null;
          }
          key = sessionReadKey(queryHash, request.operationName, operation, read, request.variables);
          const stored = cache.lookup(key) ?? (await cache.inFlight(key));
          if (stored) {
            return cachedResponse(stored);
          }
          flight = cache.begin(key, read.sessionIds);
          return null;
        },
        willSendResponse: async ({ response, contextValue }) => {
          if (!key || !flight) {
            return;
          }
          const result = response.body.kind === 'single' ? response.body.singleResult : null;
          const cacheable = result !== null && !result.errors && result.data !== undefined;
          cache.finish(key, flight, cacheable ? result : null, contextValue.horizon.validUntil);
        },
      };
    },
  };
}
