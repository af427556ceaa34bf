import { type FormattedExecutionResult, getOperationAST, parse } from 'graphql';
import { type BookingEvent } from '../../src/booking/booking-events';
import { SessionReadCache } from '../../src/caching/session-read-cache';
import { sessionReadCachePlugin } from '../../src/caching/session-read-cache-plugin';
import { ALL_SESSIONS, sessionsReadBy } from '../../src/caching/session-reads';

function operation(query: string) {
  return getOperationAST(parse(query))!;
}

function seatEvent(sessionId: string): BookingEvent {
  return {
    topic: 'seat.status-changed',
    payload: {
      mapVersion: 1,
      sessionId,
      reservationId: null,
      seats: [],
      changedAt: new Date().toISOString(),
    },
  };
}

const result = (label: string) => ({ data: { session: { label } } });

/** The end of the holds the next execution to begin reads (none unless a test sets one). */
let nextHoldEnd: Date | null = null;

/** A cache keeping results for `maxAgeMilliseconds`, within the default byte budget. */
function cacheFor(maxAgeMilliseconds: number, maxBytes = 64 * 1_024 * 1_024): SessionReadCache {
  return new SessionReadCache(
    { maxAgeMilliseconds, maxBytes },
    { nextHoldEnd: (held) => Promise.resolve(held.length > 0 ? nextHoldEnd : null) },
  );
}

describe('sessionsReadBy', () => {
  it('names the sessions of queries made only of session and seats root fields', () => {
    expect(sessionsReadBy(operation('query ($id: ID!) { session(id: $id) { id } }'), { id: 's1' })).toEqual([
      's1',
    ]);
    expect(
      sessionsReadBy(
        operation('{ __typename a: session(id: "s1") { id } seats(sessionId: "s2") { id } }'),
        {},
      ),
    ).toEqual(['s1', 's2']);
    expect(sessionsReadBy(operation('{ sessions(first: 5) { edges { node { id } } } }'), {})).toEqual([
      ALL_SESSIONS,
    ]);
  });

  it('names sessions in lower case, as their events do, however the query spells their ids', () => {
    expect(
      sessionsReadBy(
        operation('query ($id: ID!) { session(id: $id) { id } seats(sessionId: "S2") { id } }'),
        {
          id: 'ABC-S1',
        },
      ),
    ).toEqual(['abc-s1', 's2']);
  });

  it('refuses anything else: other fields, fragments at the root, mutations, missing ids', () => {
    expect(sessionsReadBy(operation('{ session(id: "s1") { id } myReservations { id } }'), {})).toBeNull();
    expect(sessionsReadBy(operation('{ ...on Query { session(id: "s1") { id } } }'), {})).toBeNull();
    expect(sessionsReadBy(operation('mutation { cancelReservation(id: "r") { id } }'), {})).toBeNull();
    expect(sessionsReadBy(operation('query ($id: ID) { session(id: $id) { id } }'), {})).toBeNull();
  });
});

describe('SessionReadCache', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('reuses a finished result until a change to its session', async () => {
    const cache = cacheFor(60_000);
    const flight = cache.begin('key', ['s1']);
    await cache.finish('key', flight, result('one'));
    expect(cache.lookup('key')).toEqual(result('one'));
    cache.invalidate([seatEvent('s2')]);
    expect(cache.lookup('key')).toEqual(result('one'));
    cache.invalidate([seatEvent('s1')]);
    expect(cache.lookup('key')).toBeNull();
  });

  it('drops session lists on a change to any session and on a new session, seat maps only on their own', async () => {
    const cache = cacheFor(60_000);
    const store = (key: string, dependencies: string[]) =>
      cache.finish(key, cache.begin(key, dependencies), result(key));
    await store('list', [ALL_SESSIONS]);
    await store('map', ['s1']);
    cache.invalidate([seatEvent('s2')]);
    expect(cache.lookup('list')).toBeNull();
    expect(cache.lookup('map')).not.toBeNull();
    await store('list', [ALL_SESSIONS]);
    cache.sessionCreated();
    expect(cache.lookup('list')).toBeNull();
    expect(cache.lookup('map')).not.toBeNull();
  });

  it('lets identical requests wait for one execution, and stores nothing read before a change', async () => {
    const cache = cacheFor(60_000);
    const flight = cache.begin('key', ['s1']);
    const waiter = cache.inFlight('key');
    cache.invalidate([seatEvent('s1')]);
    // Requests arriving after the change do not join the execution that started before it.
    expect(cache.inFlight('key')).toBeNull();
    await cache.finish('key', flight, result('before the change'));
    await expect(waiter).resolves.toEqual(result('before the change'));
    expect(cache.lookup('key')).toBeNull();
  });

  it('ends a result at its horizon and at the maximum age, and stores no failure', async () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const cache = cacheFor(1_000);
    // The holds of its session end at 1_000_300 when 'hold' begins; none when the others do.
    nextHoldEnd = new Date(1_000_300);
    const held = cache.begin('hold', ['s1']);
    nextHoldEnd = null;
    await cache.finish('hold', held, result('held'));
    await cache.finish('age', cache.begin('age', ['s1']), result('aged'));
    await cache.finish('failed', cache.begin('failed', ['s1']), null);
    expect(cache.lookup('hold')).not.toBeNull();
    expect(cache.lookup('failed')).toBeNull();
    jest.setSystemTime(1_000_300);
    expect(cache.lookup('hold')).toBeNull();
    expect(cache.lookup('age')).not.toBeNull();
    jest.setSystemTime(1_001_000);
    expect(cache.lookup('age')).toBeNull();
  });

  it('is off with a maximum age of 0', async () => {
    const cache = cacheFor(0);
    expect(cache.enabled).toBe(false);
    await cache.finish('key', cache.begin('key', ['s1']), result('one'));
    expect(cache.lookup('key')).toBeNull();
  });

  it('keeps at most 1,000 results, pushing out the oldest', async () => {
    const cache = cacheFor(60_000);
    for (let index = 0; index <= 1_000; index += 1) {
      await cache.finish(`key${index}`, cache.begin(`key${index}`, [`s${index}`]), result(`${index}`));
    }
    expect(cache.lookup('key0')).toBeNull();
    expect(cache.lookup('key1')).toEqual(result('1'));
    expect(cache.lookup('key1000')).toEqual(result('1000'));
  });

  it("serialises like Apollo, reusing a stored result's JSON", async () => {
    const cache = cacheFor(60_000);
    const stored = result('stored');
    await cache.finish('key', cache.begin('key', ['s1']), stored);
    const apollo = (value: object) => `${JSON.stringify(value)}\n`;
    // Apollo hands over a copy with its fields in order; data is the stored object itself.
    const ordered = { errors: undefined, data: stored.data, extensions: undefined };
    expect(cache.stringifyResult(ordered)).toBe(apollo(ordered));
    const other = { errors: [{ message: 'x' }], data: null, extensions: undefined };
    expect(cache.stringifyResult(other)).toBe(apollo(other));
  });

  it('keeps its results within its byte budget, pushing out the least recently used', async () => {
    // ~1,000 bytes of JSON, counted twice (the JSON and the object), plus the key.
    const sized = (label: string) => ({ data: { session: { label: label.padEnd(1_000, '.') } } });
    const cache = cacheFor(60_000, 20_000);
    for (let index = 0; index < 30; index += 1) {
      await cache.finish(`key${index}`, cache.begin(`key${index}`, [`s${index}`]), sized(`${index}`));
      // key0 is read on every turn: the least recently used go first, not it.
      expect(cache.lookup('key0')).not.toBeNull();
      expect(cache.footprint.bytes).toBeLessThanOrEqual(20_000);
    }
    expect(cache.footprint.entries).toBeGreaterThanOrEqual(8);
    expect(cache.footprint.entries).toBeLessThan(10);
    expect(cache.lookup('key1')).toBeNull();
    expect(cache.lookup('key29')).not.toBeNull();
    // Dropped results give their bytes back.
    cache.invalidate([seatEvent('s29'), seatEvent('s0')]);
    expect(cache.footprint.entries).toBeLessThan(8);
    expect(cache.footprint.bytes).toBeLessThanOrEqual(20_000 - 4_000);
  });

  it('does not store a result bigger than a quarter of its budget', async () => {
    const cache = cacheFor(60_000, 20_000);
    const big = { data: { session: { label: 'x'.repeat(2_500) } } };
    await cache.finish('big', cache.begin('big', ['s1']), big);
    expect(cache.lookup('big')).toBeNull();
    expect(cache.footprint).toEqual({ entries: 0, bytes: 0 });
  });
});

describe('sessionReadCachePlugin', () => {
  type Hooks = {
    responseForOperation(context: unknown): Promise<unknown>;
    willSendResponse(context: unknown): Promise<void>;
  };

  /** Sends `query` with `variables` through the plugin; says whether it was answered from the cache. */
  async function send(
    cache: SessionReadCache,
    query: string,
    variables: Record<string, unknown>,
    answer: FormattedExecutionResult,
  ): Promise<boolean> {
    const plugin = sessionReadCachePlugin(cache);
    const hooks = (await plugin.requestDidStart!({} as never)) as unknown as Hooks;
    const cached = await hooks.responseForOperation({
      operation: operation(query),
      queryHash: `hash of ${query}`,
      request: { query, variables },
    });
    if (cached) {
      return true;
    }
    await hooks.willSendResponse({
      response: { body: { kind: 'single', singleResult: answer } },
    });
    return false;
  }

  const SEAT_MAP = 'query ($id: ID!) { session(id: $id) { id } }';

  it('shares one entry between upper- and lower-case session ids, dropped by the lower-case event', async () => {
    const cache = cacheFor(60_000);
    const id = '0190b3c4-7d1e-7abc-8def-0000000000aa';
    expect(await send(cache, SEAT_MAP, { id: id.toUpperCase() }, result('one'))).toBe(false);
    expect(await send(cache, SEAT_MAP, { id }, result('one'))).toBe(true);
    cache.invalidate([seatEvent(id)]);
    expect(await send(cache, SEAT_MAP, { id: id.toUpperCase() }, result('two'))).toBe(false);
    // An upper-case id written in the document is its own entry, but dropped all the same.
    const inline = `{ session(id: "${id.toUpperCase()}") { id } }`;
    expect(await send(cache, inline, {}, result('two'))).toBe(false);
    expect(await send(cache, inline, {}, result('two'))).toBe(true);
    cache.invalidate([seatEvent(id)]);
    expect(await send(cache, inline, {}, result('three'))).toBe(false);
  });

  it('ignores variables the operation does not declare, so they make no new entries', async () => {
    const cache = cacheFor(60_000);
    expect(await send(cache, SEAT_MAP, { id: 's1' }, result('one'))).toBe(false);
    expect(await send(cache, SEAT_MAP, { id: 's1', filler: 'x'.repeat(1_000) }, result('one'))).toBe(true);
    expect(cache.footprint.entries).toBe(1);
  });
});
