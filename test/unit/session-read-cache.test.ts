import { getOperationAST, parse } from 'graphql';
import { type BookingEvent } from '../../src/booking/booking-events';
import { ALL_SESSIONS, SessionReadCache, sessionsReadBy } from '../../src/caching/session-read-cache';

function operation(query: string) {
  return getOperationAST(parse(query))!;
}

function seatEvent(sessionId: string): BookingEvent {
  return {
    topic: 'seat.status-changed',
    payload: { sessionId, reservationId: null, seats: [], changedAt: new Date().toISOString() },
  };
}

const result = (label: string) => ({ data: { session: { label } } });

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

  it('reuses a finished result until a change to its session', () => {
    const cache = new SessionReadCache(60_000);
    const flight = cache.begin('key', ['s1']);
    cache.finish('key', flight, result('one'), Number.POSITIVE_INFINITY);
    expect(cache.lookup('key')).toEqual(result('one'));
    cache.invalidate([seatEvent('s2')]);
    expect(cache.lookup('key')).toEqual(result('one'));
    cache.invalidate([seatEvent('s1')]);
    expect(cache.lookup('key')).toBeNull();
  });

  it('drops session lists on a change to any session and on a new session, seat maps only on their own', () => {
    const cache = new SessionReadCache(60_000);
    const store = (key: string, dependencies: string[]) =>
      cache.finish(key, cache.begin(key, dependencies), result(key), Number.POSITIVE_INFINITY);
    store('list', [ALL_SESSIONS]);
    store('map', ['s1']);
    cache.invalidate([seatEvent('s2')]);
    expect(cache.lookup('list')).toBeNull();
    expect(cache.lookup('map')).not.toBeNull();
    store('list', [ALL_SESSIONS]);
    cache.sessionCreated();
    expect(cache.lookup('list')).toBeNull();
    expect(cache.lookup('map')).not.toBeNull();
  });

  it('lets identical requests wait for one execution, and stores nothing read before a change', async () => {
    const cache = new SessionReadCache(60_000);
    const flight = cache.begin('key', ['s1']);
    const waiter = cache.inFlight('key');
    cache.invalidate([seatEvent('s1')]);
    // Requests arriving after the change do not join the execution that started before it.
    expect(cache.inFlight('key')).toBeNull();
    cache.finish('key', flight, result('before the change'), Number.POSITIVE_INFINITY);
    await expect(waiter).resolves.toEqual(result('before the change'));
    expect(cache.lookup('key')).toBeNull();
  });

  it('ends a result at its horizon and at the maximum age, and stores no failure', () => {
    jest.useFakeTimers({ now: 1_000_000 });
    const cache = new SessionReadCache(1_000);
    cache.finish('hold', cache.begin('hold', ['s1']), result('held'), 1_000_300);
    cache.finish('age', cache.begin('age', ['s1']), result('aged'), Number.POSITIVE_INFINITY);
    cache.finish('failed', cache.begin('failed', ['s1']), null, Number.POSITIVE_INFINITY);
    expect(cache.lookup('hold')).not.toBeNull();
    expect(cache.lookup('failed')).toBeNull();
    jest.setSystemTime(1_000_300);
    expect(cache.lookup('hold')).toBeNull();
    expect(cache.lookup('age')).not.toBeNull();
    jest.setSystemTime(1_001_000);
    expect(cache.lookup('age')).toBeNull();
  });

  it('is off with a maximum age of 0', () => {
    const cache = new SessionReadCache(0);
    expect(cache.enabled).toBe(false);
    cache.finish('key', cache.begin('key', ['s1']), result('one'), Number.POSITIVE_INFINITY);
    expect(cache.lookup('key')).toBeNull();
  });

  it('keeps at most 1,000 results, pushing out the oldest', () => {
    const cache = new SessionReadCache(60_000);
    for (let index = 0; index <= 1_000; index += 1) {
      cache.finish(`key${index}`, cache.begin(`key${index}`, [`s${index}`]), result(`${index}`), Infinity);
    }
    expect(cache.lookup('key0')).toBeNull();
    expect(cache.lookup('key1')).toEqual(result('1'));
    expect(cache.lookup('key1000')).toEqual(result('1000'));
  });

  it("serialises like Apollo, reusing a stored result's JSON", () => {
    const cache = new SessionReadCache(60_000);
    const stored = result('stored');
    cache.finish('key', cache.begin('key', ['s1']), stored, Infinity);
    const apollo = (value: object) => `${JSON.stringify(value)}\n`;
    // Apollo hands over a copy with its fields in order; data is the stored object itself.
    const ordered = { errors: undefined, data: stored.data, extensions: undefined };
    expect(cache.stringifyResult(ordered)).toBe(apollo(ordered));
    const other = { errors: [{ message: 'x' }], data: null, extensions: undefined };
    expect(cache.stringifyResult(other)).toBe(apollo(other));
  });
});
