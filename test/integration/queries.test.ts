import { createSession, RESERVE } from '../support/factories';
import { countQueries } from '../support/sql-count';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

describe('queries', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    // The N+1 test asks for every seat of 20 sessions in one document: far over the default
    // cost budget (which assumes 10,000-seat rooms), on purpose.
    testApp = await startTestApp({ GRAPHQL_MAX_COST: '1000000' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('pages sessions by startsAt then id, filtering from (inclusive) and to (exclusive)', async () => {
    // A time window of our own, far in the future, so other tests' sessions stay out of it.
    const base = Date.UTC(2090, 0, 1) + Math.floor(Math.random() * 1_000_000) * 60_000;
    const at = (minutes: number) => new Date(base + minutes * 60_000).toISOString();
    const created = [];
    for (const minutes of [30, 0, 10, 10, 20]) {
      created.push({
        id: (await createSession(testApp, { rows: 1, seatsPerRow: 1, startsAt: at(minutes) })).id,
        minutes,
      });
    }
    const expected = [...created].sort(
      (left, right) => left.minutes - right.minutes || left.id.localeCompare(right.id),
    );
    const page = `query ($first: Int, $after: String, $from: DateTime, $to: DateTime) {
      sessions(first: $first, after: $after, from: $from, to: $to) {
        edges { cursor node { id startsAt } } pageInfo { hasNextPage endCursor } } }`;
    type Page = {
      sessions: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } };
    };

    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const response = await testApp.graphql<Page>(page, { first: 2, after, from: at(0), to: at(31) });
      seen.push(...response.data!.sessions.edges.map((edge) => edge.node.id));
      if (!response.data!.sessions.pageInfo.hasNextPage) {
        break;
      }
      after = response.data!.sessions.pageInfo.endCursor;
    }
    expect(seen).toEqual(expected.map((session) => session.id));

    const window = await testApp.graphql<Page>(page, { from: at(10), to: at(30) });
    expect(window.data!.sessions.edges.map((edge) => edge.node.id)).toEqual(
      expected
        .filter((session) => session.minutes >= 10 && session.minutes < 30)
        .map((session) => session.id),
    );
  });

  it('answers nested queries with a constant number of SQL queries (DataLoaders, no N+1)', async () => {
    const base = Date.UTC(2095, 0, 1) + Math.floor(Math.random() * 1_000_000) * 60_000;
    const sessions = [];
    for (let index = 0; index < 20; index += 1) {
      sessions.push(
        await createSession(testApp, {
          rows: 2,
          seatsPerRow: 5,
          startsAt: new Date(base + index * 60_000).toISOString(),
        }),
      );
    }
    const user = await testApp.token(uniqueUser());
    for (const session of sessions.slice(0, 5)) {
      await testApp.graphql(
        RESERVE,
        { input: { sessionId: session.id, seatIds: [session.seats[0].id, session.seats[1].id] } },
        user,
      );
    }

    const list = await countQueries(testApp.app, () =>
      testApp.graphql<{ sessions: { edges: { node: { seats: unknown[] } }[] } }>(
        `query ($from: DateTime) { sessions(first: 20, from: $from) { edges { node {
           id availableSeats seats { id label status session { id movie } } } } } }`,
        { from: new Date(base).toISOString() },
      ),
    );
    expect(list.result.data!.sessions.edges).toHaveLength(20);
    expect(list.result.data!.sessions.edges.every((edge) => edge.node.seats.length === 10)).toBe(true);
    // sessions page, seats by session, available counts, sessions by id.
    expect(list.queries).toBeLessThanOrEqual(4);

    const mine = await countQueries(testApp.app, () =>
      testApp.graphql<{ myReservations: unknown[] }>(
        `{ myReservations { id session { id } seats { id session { id } } sale { id } } }`,
        {},
        user,
      ),
    );
    expect(mine.result.data!.myReservations).toHaveLength(5);
    // reservations with their seats (one statement), sessions (unless already known), sales.
    expect(mine.queries).toBeLessThanOrEqual(3);
  });
});
