import { randomUUID } from 'node:crypto';
import { type Client } from 'graphql-ws';
import { CONFIRM_PAYMENT, createSession, RESERVE } from '../support/factories';
import { ClientPool, subscribe } from '../support/subscriptions';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

const SEAT_STATUS_CHANGED = `
  subscription ($sessionId: ID!) {
    seatStatusChanged(sessionId: $sessionId) { sessionId reservationId changedAt seats { id label status version sessionId } }
  }`;

const RESERVATION_UPDATED = `
  subscription ($reservationId: ID!) { reservationUpdated(reservationId: $reservationId) { id status sale { id } } }`;

interface SeatChange {
  seatStatusChanged: {
    sessionId: string;
    reservationId: string;
    seats: { id: string; label: string; status: string; version: number; sessionId: string }[];
  };
}

describe('subscriptions over graphql-ws (one process)', () => {
  let testApp: TestApp;
  const clients = new ClientPool(
    () => testApp.url,
    () => testApp.app.subscriptionSignals,
  );

  beforeAll(async () => {
    testApp = await startTestApp();
  });

  afterAll(async () => {
    await clients.disposeAll();
    await testApp.stop();
  });

  const client = (token?: string): Client => clients.open(token);

  it('delivers RESERVED then SOLD with growing versions, and nothing from other sessions', async () => {
    const session = await createSession(testApp);
    const otherSession = await createSession(testApp);
    const watcher = await subscribe<SeatChange>(client(), SEAT_STATUS_CHANGED, { sessionId: session.id });
    const user = await testApp.token(uniqueUser());

    await testApp.graphql(
      RESERVE,
      { input: { sessionId: otherSession.id, seatIds: [otherSession.seats[0].id] } },
      user,
    );
    const reserved = await testApp.graphql<{ reserve: { id: string } }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      user,
    );
    await testApp.graphql(CONFIRM_PAYMENT, { reservationId: reserved.data!.reserve.id }, user);

    const first = (await watcher.next()).data!.seatStatusChanged;
    const second = (await watcher.next()).data!.seatStatusChanged;
    expect(first.sessionId).toBe(session.id);
    expect(first.reservationId).toBe(reserved.data!.reserve.id);
    expect(first.seats).toEqual([
      { id: session.seats[0].id, label: 'A1', status: 'RESERVED', version: 2, sessionId: session.id },
    ]);
    expect(second.seats).toEqual([
      { id: session.seats[0].id, label: 'A1', status: 'SOLD', version: 3, sessionId: session.id },
    ]);
    await watcher.close();
  });

  it('tells the owner about their reservation and refuses strangers', async () => {
    const session = await createSession(testApp);
    const ownerToken = await testApp.token(uniqueUser('owner'));
    const reserved = await testApp.graphql<{ reserve: { id: string } }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[1].id] } },
      ownerToken,
    );
    const reservationId = reserved.data!.reserve.id;

    const stranger = await subscribe(
      client(await testApp.token(uniqueUser('stranger'))),
      RESERVATION_UPDATED,
      { reservationId },
    );
    expect((await stranger.next()).errors?.[0]).toMatchObject({ extensions: { code: 'FORBIDDEN' } });
    const anonymous = await subscribe(client(), RESERVATION_UPDATED, { reservationId });
    expect((await anonymous.next()).errors?.[0]).toMatchObject({ extensions: { code: 'UNAUTHENTICATED' } });

    const owner = await subscribe<{
      reservationUpdated: { id: string; status: string; sale: { id: string } | null };
    }>(client(ownerToken), RESERVATION_UPDATED, { reservationId });
    const sale = await testApp.graphql<{ confirmPayment: { id: string } }>(
      CONFIRM_PAYMENT,
      { reservationId },
      ownerToken,
    );
    // The hold's own event may still be on its way through the broker when the owner subscribes.
    let update = (await owner.next()).data!.reservationUpdated;
    if (update.status === 'PENDING') {
      expect(update).toEqual({ id: reservationId, status: 'PENDING', sale: null });
      update = (await owner.next()).data!.reservationUpdated;
    }
    expect(update).toEqual({
      id: reservationId,
      status: 'CONFIRMED',
      sale: { id: sale.data!.confirmPayment.id },
    });
    await owner.close();
  });

  it('answers NOT_FOUND for an unknown session and BAD_USER_INPUT for a malformed id', async () => {
    const unknown = await subscribe(client(), SEAT_STATUS_CHANGED, { sessionId: randomUUID() });
    expect((await unknown.next()).errors?.[0]).toMatchObject({ extensions: { code: 'NOT_FOUND' } });
    const malformed = await subscribe(client(), SEAT_STATUS_CHANGED, { sessionId: 'seat-map-1' });
    expect((await malformed.next()).errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' } });
  });
});
