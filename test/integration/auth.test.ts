import { print } from 'graphql';
import { createServer } from 'node:http';
import { type AddressInfo } from 'node:net';
import { exportJWK, importSPKI } from 'jose';
import { generateKeyPair, signToken } from '../../src/infra/dev-keys';
import { CONFIRM_PAYMENT, CREATE_SESSION, createSession, RESERVE } from '../support/factories';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

describe('authentication and authorisation', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp();
  });

  afterAll(async () => {
    await testApp.stop();
  });

  const sessionInput = () => ({
    movie: 'Auth',
    room: 'A',
    startsAt: new Date(Date.now() + 3_600_000).toISOString(),
    priceCents: 100,
    rows: 1,
    seatsPerRow: 1,
  });

  it('reads need no token', async () => {
    const session = await createSession(testApp);
    const response = await testApp.graphql(
      `query ($id: ID!) { session(id: $id) { id } sessions { edges { cursor } } }`,
      {
        id: session.id,
      },
    );
    expect(response.errors).toBeUndefined();
  });

  it('refuses mutations without a token, with a token from another key, expired, or malformed', async () => {
    const session = await createSession(testApp);
    const input = { sessionId: session.id, seatIds: [session.seats[0].id] };
    const otherKey = generateKeyPair();
    const tokens: (string | undefined)[] = [
      undefined,
      await signToken(otherKey.privateKeyPem, { userId: 'mallory' }),
      await testApp.token('late', { expiresIn: -10 }),
      'not.a.jwt',
    ];
    for (const token of tokens) {
      const response = await testApp.graphql(RESERVE, { input }, token);
      expect(response.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
      expect(response.errors?.[0].message).not.toMatch(/signature|jws|jwt/i);
    }
    const wrongScheme = await fetch(testApp.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Basic dXNlcjpwYXNz' },
      body: JSON.stringify({ query: print(RESERVE), variables: { input } }),
    });
    expect(
      ((await wrongScheme.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions
        .code,
    ).toBe('UNAUTHENTICATED');
  });

  it('lets only admins create sessions', async () => {
    const user = await testApp.token(uniqueUser());
    const refused = await testApp.graphql(CREATE_SESSION, { input: sessionInput() }, user);
    expect(refused.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const anonymous = await testApp.graphql(CREATE_SESSION, { input: sessionInput() });
    expect(anonymous.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    const admin = await testApp.token(uniqueUser('admin'), { admin: true });
    const created = await testApp.graphql(CREATE_SESSION, { input: sessionInput() }, admin);
    expect(created.errors).toBeUndefined();
  });

  it("keeps users out of each other's reservations and sales; admins may read them", async () => {
    const session = await createSession(testApp);
    const ownerId = uniqueUser('owner');
    const owner = await testApp.token(ownerId);
    const stranger = await testApp.token(uniqueUser('stranger'));
    const admin = await testApp.token(uniqueUser('admin'), { admin: true });
    const reserved = await testApp.graphql<{ reserve: { id: string } }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      owner,
    );
    const reservationId = reserved.data!.reserve.id;
    const readReservation = `query ($id: ID!) { reservation(id: $id) { id userId } }`;

    const hidden = await testApp.graphql(readReservation, { id: reservationId }, stranger);
    expect(hidden.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const anonymous = await testApp.graphql(readReservation, { id: reservationId });
    expect(anonymous.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    const asAdmin = await testApp.graphql<{ reservation: { userId: string } }>(
      readReservation,
      { id: reservationId },
      admin,
    );
    expect(asAdmin.data!.reservation.userId).toBe(ownerId);

    // Only the owner pays, not even an admin.
    expect(
      (await testApp.graphql(CONFIRM_PAYMENT, { reservationId }, admin)).errors?.[0].extensions.code,
    ).toBe('FORBIDDEN');
    await testApp.graphql(CONFIRM_PAYMENT, { reservationId }, owner);

    const history = `query ($userId: ID) { salesHistory(userId: $userId) { edges { node { id userId } } } }`;
    const othersSales = await testApp.graphql(history, { userId: ownerId }, stranger);
    expect(othersSales.errors?.[0].extensions.code).toBe('FORBIDDEN');
    const ownSales = await testApp.graphql<{ salesHistory: { edges: unknown[] } }>(history, {}, owner);
    expect(ownSales.data!.salesHistory.edges).toHaveLength(1);
    const adminView = await testApp.graphql<{ salesHistory: { edges: { node: { userId: string } }[] } }>(
      history,
      { userId: ownerId },
      admin,
    );
    expect(adminView.data!.salesHistory.edges.map((edge) => edge.node.userId)).toEqual([ownerId]);
    const anonymousHistory = await testApp.graphql(history, {});
    expect(anonymousHistory.errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
  });
});

describe('tokens verified through a JWKS endpoint, with issuer and audience', () => {
  const keys = generateKeyPair();
  const jwks = createServer((_request, response) => {
    void (async () => {
      const jwk = await exportJWK(await importSPKI(keys.publicKeyPem, 'RS256'));
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [{ ...jwk, kid: 'key-1', alg: 'RS256', use: 'sig' }] }));
    })();
  });
  let testApp: TestApp;

  beforeAll(async () => {
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    testApp = await startTestApp({
      AUTH_PUBLIC_KEY: '',
      AUTH_JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      AUTH_ISSUER: 'https://id.poltrona.test/',
      AUTH_AUDIENCE: 'poltrona-api',
    });
  });

  afterAll(async () => {
    await testApp.stop();
    jwks.close();
  });

  it('accepts a token with the right key, issuer and audience, and refuses the others', async () => {
    const query = `{ myReservations { id } }`;
    const sign = (claims: { issuer?: string; audience?: string; keyId?: string }) =>
      signToken(keys.privateKeyPem, { userId: uniqueUser(), keyId: 'key-1', ...claims });
    const good = await sign({ issuer: 'https://id.poltrona.test/', audience: 'poltrona-api' });
    expect((await testApp.graphql(query, {}, good)).errors).toBeUndefined();
    for (const token of [
      await sign({ issuer: 'https://evil.test/', audience: 'poltrona-api' }),
      await sign({ issuer: 'https://id.poltrona.test/', audience: 'another-api' }),
      await sign({ audience: 'poltrona-api' }),
      await signToken(generateKeyPair().privateKeyPem, {
        userId: 'mallory',
        keyId: 'key-1',
        issuer: 'https://id.poltrona.test/',
        audience: 'poltrona-api',
      }),
    ]) {
      expect((await testApp.graphql(query, {}, token)).errors?.[0].extensions.code).toBe('UNAUTHENTICATED');
    }
  });
});
