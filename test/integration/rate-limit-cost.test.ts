import { randomUUID } from 'node:crypto';
import { createSession, expectNothingLeftBehind } from '../support/factories';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';
import { sleep } from '../support/wait';

/**
 * Rate budgets count root fields, not documents (docs/contract.md, "Limits"): each root field costs 1, so
 * aliasing mutations into one document spends as much of the budget as sending them apart.
 */
describe('rate limits count root fields', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({ RATE_LIMIT_MUTATIONS_PER_MINUTE: '5', RATE_LIMIT_READS_PER_MINUTE: '5' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  beforeEach(async () => {
    // Budgets are per minute of the clock: start each test well inside one.
    const intoMinute = Date.now() % 60_000;
    if (intoMinute > 50_000) {
      await sleep(60_000 - intoMinute + 100);
    }
  });

  /** `count` aliased cancellations of reservations that do not exist. */
  const cancellations = (count: number) =>
    `mutation { ${Array.from(
      { length: count },
      (_, index) => `c${index}: cancelReservation(reservationId: "${randomUUID()}") { id }`,
    ).join(' ')} }`;

  const codeOf = (response: { errors?: { extensions: { code: string } }[] }) =>
    response.errors?.[0].extensions.code ?? 'OK';

  it('refuses 6 aliased reserves against a budget of 5 with HTTP 429, and nothing is created', async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 6 });
    const reserves = session.seats.map(
      (seat, index) =>
        `r${index}: reserve(input: { sessionId: "${session.id}", seatIds: ["${seat.id}"] }) { id }`,
    );
    const token = await testApp.token(uniqueUser());
    await expectNothingLeftBehind(testApp, session, async () => {
      const response = await testApp.graphql(`mutation { ${reserves.join(' ')} }`, {}, token);
      expect(response.status).toBe(429);
      expect(response.data).toBeUndefined();
      expect(response.errors?.[0].extensions).toEqual({
        code: 'RATE_LIMITED',
        retryAfterSeconds: expect.any(Number),
      });
    });
  });

  it('spends the budget by root fields: 5 aliased mutations pass, then one more is refused', async () => {
    const token = await testApp.token(uniqueUser());
    // Allowed, so it runs (and the reservations it names do not exist).
    const five = await testApp.graphql(cancellations(5), {}, token);
    expect(five.status).toBe(200);
    expect(codeOf(five)).toBe('NOT_FOUND');
    const sixth = await testApp.graphql(cancellations(1), {}, token);
    expect(sixth.status).toBe(429);
    expect(codeOf(sixth)).toBe('RATE_LIMITED');
  });

  it('refuses the 6th of 6 single mutations, and counts the refused ones too', async () => {
    const token = await testApp.token(uniqueUser());
    const codes: string[] = [];
    for (let index = 0; index < 7; index += 1) {
      codes.push(codeOf(await testApp.graphql(cancellations(1), {}, token)));
    }
    expect(codes).toEqual([...Array(5).fill('NOT_FOUND'), 'RATE_LIMITED', 'RATE_LIMITED']);
  });

  it('counts every root field of a query against the read budget, __typename included', async () => {
    const token = await testApp.token(uniqueUser());
    const three = '{ a: __typename b: __typename myReservations { id } }';
    expect(codeOf(await testApp.graphql(three, {}, token))).toBe('OK');
    const again = await testApp.graphql(three, {}, token);
    expect(again.status).toBe(429);
    expect(codeOf(again)).toBe('RATE_LIMITED');
    // Another user's reads are their own.
    expect(codeOf(await testApp.graphql(three, {}, await testApp.token(uniqueUser())))).toBe('OK');
  });

  it('refuses a document outside the operation limits with HTTP 400, before counting it', async () => {
    const token = await testApp.token(uniqueUser());
    const response = await testApp.graphql(cancellations(16), {}, token);
    expect(response.status).toBe(400);
    expect(response.errors?.[0].extensions).toEqual({
      code: 'GRAPHQL_VALIDATION_FAILED',
      limit: 'aliases',
      max: 15,
      actual: 16,
    });
    expect(codeOf(await testApp.graphql(cancellations(5), {}, token))).toBe('NOT_FOUND');
  });
});
