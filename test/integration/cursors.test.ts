import { captureLogs } from '../support/log-capture';
import { CONFIRM_PAYMENT, createSession, RESERVE } from '../support/factories';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

const base64url = (key: unknown) => Buffer.from(JSON.stringify(key)).toString('base64url');
const NIL_ID = '00000000-0000-0000-0000-000000000000';

const SESSIONS = `query ($after: String) {
  sessions(first: 2, after: $after) { edges { cursor } pageInfo { endCursor } } }`;
const SALES = `query ($after: String) {
  salesHistory(first: 1, after: $after) { edges { node { id } } pageInfo { hasNextPage endCursor } } }`;

describe('cursors the API did not hand out', () => {
  let testApp: TestApp;
  const logs = captureLogs();
  const errorLines = () => logs.lines().filter((line) => (line.level as number) >= 50);

  beforeAll(async () => {
    testApp = await startTestApp({}, logs.logger);
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it.each([
    ['a date before year 0', base64url(['-010000-01-01T00:00:00.000Z', NIL_ID])],
    ['a date after year 9999', base64url(['+100000-01-01T00:00:00.000Z', NIL_ID])],
    ['year 0000, which PostgreSQL cannot store', base64url(['0000-06-01T00:00:00.000Z', NIL_ID])],
    ['a date before 1970', base64url(['1969-12-31T23:59:59.999Z', NIL_ID])],
    ['a non-canonical date', base64url(['2030-01-01T00:00:00Z', NIL_ID])],
  ])('sessions(after:) with %s is BAD_USER_INPUT, logged as nothing unexpected', async (_name, after) => {
    const before = errorLines().length;
    const response = await testApp.graphql(SESSIONS, { after });
    expect(response.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    expect(errorLines()).toHaveLength(before);
  });

  it('salesHistory(after:) accepts only the cursors it hands out', async () => {
    const userId = uniqueUser();
    const token = await testApp.token(userId);
    const session = await createSession(testApp);
    for (const seat of session.seats.slice(0, 2)) {
      const reserved = await testApp.graphql<{ reserve: { id: string } }>(
        RESERVE,
        { input: { sessionId: session.id, seatIds: [seat.id] } },
        token,
      );
      await testApp.graphql(CONFIRM_PAYMENT, { reservationId: reserved.data!.reserve.id }, token);
    }
    type Sales = { salesHistory: { edges: { node: { id: string } }[]; pageInfo: { endCursor: string } } };
    const first = await testApp.graphql<Sales>(SALES, {}, token);
    const handedOut = first.data!.salesHistory.pageInfo.endCursor;
    const second = await testApp.graphql<Sales>(SALES, { after: handedOut }, token);
    expect(second.errors).toBeUndefined();
    expect(second.data!.salesHistory.edges).toHaveLength(1);

    const [saleId] = JSON.parse(Buffer.from(handedOut, 'base64url').toString()) as string[];
    for (const after of [
      base64url([saleId.toUpperCase()]),
      base64url(['2030-01-01T00:00:00.000Z']),
      `${handedOut}=`,
    ]) {
      const response = await testApp.graphql(SALES, { after }, token);
      expect(response.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    }
  });
});
