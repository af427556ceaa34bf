import { createSession, RESERVE } from '../support/factories';
import { startTestAppIn, type TestApp, testEnvironment, uniqueUser } from '../support/test-app';
import { countQueries } from '../support/sql-count';
import { eventually, sleep } from '../support/wait';

const SEAT_MAP = `query ($id: ID!) { session(id: $id) { availableSeats seats { id status version } } }`;
type SeatMap = {
  session: { availableSeats: number; seats: { id: string; status: string; version: number }[] };
};

/**
 * The reuse of seat-map results (SESSION_CACHE_MAX_AGE_MS): reused while nothing changes, never
 * past a change this process commits, another process's change (its event), or the end of a hold.
 * The apps here keep results for a minute, so a missed invalidation fails the test.
 */
describe('seat-map read cache', () => {
  const environment = testEnvironment({ SESSION_CACHE_MAX_AGE_MS: '60000' });
  // Two processes of one deployment: `writer` runs everything, `reader` only serves the API (no
  // expiry worker, so a hold it shows ends only by the clock).
  let writer: TestApp;
  let reader: TestApp;

  beforeAll(async () => {
    writer = await startTestAppIn(environment);
    reader = await startTestAppIn({ ...environment, ROLE: 'api' });
  });

  afterAll(async () => {
    await reader?.app.stop();
    await writer?.stop();
  });

  async function seatMap(app: TestApp, sessionId: string): Promise<SeatMap['session']> {
    const response = await app.graphql<SeatMap>(SEAT_MAP, { id: sessionId });
    expect(response.errors).toBeUndefined();
    return response.data!.session;
  }

  /** SQL statements `app` runs while `work` runs. */
  async function queriesOf(app: TestApp, work: () => Promise<unknown>): Promise<number> {
    return (await countQueries(app.app, work)).queries;
  }

  it('answers a repeated seat map without SQL, and shows a change it commits at once', async () => {
    const session = await createSession(writer, { rows: 1, seatsPerRow: 3 });
    await seatMap(writer, session.id);
    expect(await queriesOf(writer, () => seatMap(writer, session.id))).toBe(0);

    const reserved = await writer.graphql(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      await writer.token(uniqueUser()),
    );
    expect(reserved.errors).toBeUndefined();
    const after = await seatMap(writer, session.id);
    expect(after.seats[0]).toEqual({ id: session.seats[0].id, status: 'RESERVED', version: 2 });
    expect(after.availableSeats).toBe(2);
  });

  it('shows a change to a session asked for by its upper-case id, in variables or in the document', async () => {
    const session = await createSession(writer, { rows: 1, seatsPerRow: 3 });
    const upperCaseId = session.id.toUpperCase();
    const inline = `{ session(id: "${upperCaseId}") { availableSeats seats { id status version } } }`;
    const inlineSeatMap = async (app: TestApp) => {
      const response = await app.graphql<SeatMap>(inline);
      expect(response.errors).toBeUndefined();
      return response.data!.session;
    };
    for (const app of [writer, reader]) {
      expect((await seatMap(app, upperCaseId)).seats[0].status).toBe('AVAILABLE');
      expect((await inlineSeatMap(app)).seats[0].status).toBe('AVAILABLE');
      // Cached, and shared with the lower-case spelling.
      expect(await queriesOf(app, () => seatMap(app, upperCaseId))).toBe(0);
      expect(await queriesOf(app, () => seatMap(app, session.id))).toBe(0);
      expect(await queriesOf(app, () => inlineSeatMap(app))).toBe(0);
    }

    const reserved = await writer.graphql(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      await writer.token(uniqueUser()),
    );
    expect(reserved.errors).toBeUndefined();
    // The process that committed the change drops the results at once; another, on its event.
    expect((await seatMap(writer, upperCaseId)).seats[0].status).toBe('RESERVED');
    expect((await inlineSeatMap(writer)).seats[0].status).toBe('RESERVED');
    await eventually(
      async () =>
        (await seatMap(reader, upperCaseId)).seats[0].status === 'RESERVED' &&
        (await inlineSeatMap(reader)).seats[0].status === 'RESERVED',
      5_000,
      'the reader to show the seat RESERVED',
    );
  });

  it('shows a new session and a change in a cached session list at once', async () => {
    // A time window of our own, so other tests' sessions stay out of the list.
    const base = Date.UTC(2091, 0, 1) + Math.floor(Math.random() * 1_000_000) * 60_000;
    const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
    const list = `query ($from: DateTime, $to: DateTime) {
      sessions(from: $from, to: $to) { edges { node { id availableSeats } } } }`;
    type List = { sessions: { edges: { node: { id: string; availableSeats: number } }[] } };
    const read = async () =>
      (await writer.graphql<List>(list, { from: at(0), to: at(60) })).data!.sessions.edges.map(
        (edge) => edge.node,
      );

    const first = await createSession(writer, { rows: 1, seatsPerRow: 2, startsAt: at(10) });
    expect(await read()).toEqual([{ id: first.id, availableSeats: 2 }]);
    expect(await queriesOf(writer, read)).toBe(0);

    const second = await createSession(writer, { rows: 1, seatsPerRow: 2, startsAt: at(20) });
    expect(await read()).toEqual([
      { id: first.id, availableSeats: 2 },
      { id: second.id, availableSeats: 2 },
    ]);
    const reserved = await writer.graphql(
      RESERVE,
      { input: { sessionId: second.id, seatIds: [second.seats[0].id] } },
      await writer.token(uniqueUser()),
    );
    expect(reserved.errors).toBeUndefined();
    expect(await read()).toEqual([
      { id: first.id, availableSeats: 2 },
      { id: second.id, availableSeats: 1 },
    ]);
  });

  it("drops a result when another process's change arrives as an event", async () => {
    const session = await createSession(writer, { rows: 1, seatsPerRow: 3 });
    expect((await seatMap(reader, session.id)).seats[1].status).toBe('AVAILABLE');
    expect(await queriesOf(reader, () => seatMap(reader, session.id))).toBe(0);

    const reserved = await writer.graphql(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[1].id] } },
      await writer.token(uniqueUser()),
    );
    expect(reserved.errors).toBeUndefined();
    await eventually(
      async () => (await seatMap(reader, session.id)).seats[1].status === 'RESERVED',
      5_000,
      'the reader to show the seat RESERVED',
    );
  });

  it('stops reusing a result when a hold it shows ends, even with no event', async () => {
    // A deployment without workers: nothing expires the hold, only the clock ends it.
    const solo = await startTestAppIn(
      testEnvironment({ SESSION_CACHE_MAX_AGE_MS: '60000', HOLD_SECONDS: '1', ROLE: 'api' }),
    );
    try {
      const session = await createSession(solo, { rows: 1, seatsPerRow: 3 });
      const reserved = await solo.graphql<{ reserve: { expiresAt: string } }>(
        RESERVE,
        { input: { sessionId: session.id, seatIds: [session.seats[2].id] } },
        await solo.token(uniqueUser()),
      );
      expect(reserved.errors).toBeUndefined();
      const expiresAt = Date.parse(reserved.data!.reserve.expiresAt);
      expect((await seatMap(solo, session.id)).seats[2].status).toBe('RESERVED');
      // Once the reservation's own event has come back from the broker, the result is reused.
      await eventually(
        async () => (await queriesOf(solo, () => seatMap(solo, session.id))) === 0,
        5_000,
        'a reused seat map',
      );

      await sleep(Math.max(0, expiresAt - Date.now()) + 50);
      const ended = await seatMap(solo, session.id);
      expect(ended.seats[2].status).toBe('AVAILABLE');
      expect(ended.availableSeats).toBe(3);
    } finally {
      await solo.stop();
    }
  });
});
