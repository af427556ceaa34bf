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

/** Entries beyond this many push out the oldest. */
const MAX_ENTRIES = 1_000;

/**
 * The sessions a query reads when it reads nothing but public session data (root fields
 * `session`, `seats` and `sessions`, the last depending on {@link ALL_SESSIONS}); null for any
 * other operation, which is never cached.
 */
export function sessionsReadBy(
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
): string[] | null {
  if (operation.operation !== 'query') {
    return null;
  }
  const sessionIds: string[] = [];
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
    sessionIds.push(sessionId);
  }
  return sessionIds;
}

interface Entry {
  readonly result: FormattedExecutionResult;
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
 */
export class SessionReadCache {
  private readonly entries = new Map<string, Entry>();
  private readonly keysByDependency = new Map<string, Set<string>>();
  private readonly flights = new Map<string, Flight>();
  /** The JSON of stored results' data, written once and sent on every hit. */
  private readonly serialized = new WeakMap<object, string>();

  /** @param maxAgeMilliseconds longest reuse of a result; 0 turns the cache off. */
  constructor(private readonly maxAgeMilliseconds: number) {}

  get enabled(): boolean {
    return this.maxAgeMilliseconds > 0;
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
    if (this.entries.size >= MAX_ENTRIES) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) {
        this.remove(oldest.value);
      }
    }
    this.entries.set(key, { result, dependencies: flight.dependencies, validUntil: until });
    if (result.data) {
      this.serialized.set(result.data, JSON.stringify(result.data));
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
    for (const sessionId of new Set(events.map((event) => event.payload.sessionId))) {
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
    this.drop(sessionId);
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
          const dependencies = sessionsReadBy(operation, request.variables);
          if (!dependencies) {
            return null;
          }
          key = `${queryHash}\n${request.operationName ?? ''}\n${JSON.stringify(request.variables ?? {})}`;
          const stored = cache.lookup(key) ?? (await cache.inFlight(key));
          if (stored) {
            return cachedResponse(stored);
          }
          flight = cache.begin(key, dependencies);
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
