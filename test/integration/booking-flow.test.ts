import {
  CANCEL_RESERVATION,
  CONFIRM_PAYMENT,
  createSession,
  lockedSeatCount,
  RESERVE,
  type SessionFixture,
} from '../support/factories';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

interface ReservationView {
  id: string;
  userId: string;
  status: string;
  expiresAt: string;
  createdAt: string;
  totalCents: number;
  seats: { id: string; label: string; status: string; version: number }[];
}

describe('booking flow over HTTP', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({ HOLD_SECONDS: '30' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  it('creates a session with a generated seat map', async () => {
    const session = await createSession(testApp, { rows: 28, seatsPerRow: 2 });
    expect(session.seats).toHaveLength(56);
    expect(session.seats.slice(0, 3).map((seat) => seat.label)).toEqual(['A1', 'A2', 'B1']);
    // Rows go A..Z, then AA, AB: ordered by position, not alphabetically.
    expect(session.seats.slice(-4).map((seat) => seat.label)).toEqual(['AA1', 'AA2', 'AB1', 'AB2']);
    expect(session.seats.every((seat) => seat.status === 'AVAILABLE' && seat.version === 1)).toBe(true);

    const read = await testApp.graphql<{
      session: { availableSeats: number; seats: unknown[]; rows: number };
    }>(`query ($id: ID!) { session(id: $id) { rows availableSeats seats { id } } }`, { id: session.id });
    expect(read.data?.session).toEqual({ rows: 28, availableSeats: 56, seats: expect.any(Array) });
  });

  it('reserves, refuses a conflict, confirms, confirms again, and lists the sale', async () => {
    const session: SessionFixture = await createSession(testApp, { priceCents: 1_500 });
    const alice = await testApp.token(uniqueUser('alice'));
    const bob = await testApp.token(uniqueUser('bob'));
    const [first, second, third] = session.seats;

    const reserved = await testApp.graphql<{ reserve: ReservationView }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [second.id, first.id] } },
      alice,
    );
    expect(reserved.errors).toBeUndefined();
    const reservation = reserved.data!.reserve;
    expect(reservation.status).toBe('PENDING');
    expect(reservation.totalCents).toBe(3_000);
    expect(reservation.seats.map((seat) => [seat.label, seat.status, seat.version])).toEqual([
      ['A1', 'RESERVED', 2],
      ['A2', 'RESERVED', 2],
    ]);
    const holdMilliseconds = Date.parse(reservation.expiresAt) - Date.parse(reservation.createdAt);
    expect(holdMilliseconds).toBe(30_000);
    expect(await lockedSeatCount(testApp, session.id, [first.id, second.id])).toBe(2);

    const conflict = await testApp.graphql(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [third.id, second.id] } },
      bob,
    );
    expect(conflict.errors?.[0].extensions).toEqual({ code: 'SEAT_UNAVAILABLE', seatIds: [second.id] });

    const seatMap = await testApp.graphql<{ seats: { label: string; status: string }[] }>(
      `query ($sessionId: ID!) { seats(sessionId: $sessionId) { label status } }`,
      { sessionId: session.id },
    );
    expect(seatMap.data!.seats.slice(0, 3)).toEqual([
      { label: 'A1', status: 'RESERVED' },
      { label: 'A2', status: 'RESERVED' },
      { label: 'A3', status: 'AVAILABLE' },
    ]);

    const confirmed = await testApp.graphql<{
      confirmPayment: {
        id: string;
        amountCents: number;
        seats: ReservationView['seats'];
        reservation: { status: string };
      };
    }>(CONFIRM_PAYMENT, { reservationId: reservation.id }, alice);
    expect(confirmed.errors).toBeUndefined();
    const sale = confirmed.data!.confirmPayment;
    expect(sale.amountCents).toBe(3_000);
    expect(sale.reservation.status).toBe('CONFIRMED');
    expect(sale.seats.map((seat) => [seat.label, seat.status, seat.version])).toEqual([
      ['A1', 'SOLD', 3],
      ['A2', 'SOLD', 3],
    ]);
    // Locks are released by their owner once the seats are sold.
    expect(await lockedSeatCount(testApp, session.id, [first.id, second.id])).toBe(0);

    const again = await testApp.graphql<{ confirmPayment: { id: string } }>(
      CONFIRM_PAYMENT,
      { reservationId: reservation.id },
      alice,
    );
    expect(again.data!.confirmPayment.id).toBe(sale.id);

    const history = await testApp.graphql<{
      salesHistory: { edges: { node: { id: string; amountCents: number; reservation: { id: string } } }[] };
    }>(
      `{ salesHistory { edges { node { id amountCents reservation { id } } } pageInfo { hasNextPage } } }`,
      {},
      alice,
    );
    expect(history.data!.salesHistory.edges).toEqual([
      { node: { id: sale.id, amountCents: 3_000, reservation: { id: reservation.id } } },
    ]);

    const sold = await testApp.graphql(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [first.id] } },
      bob,
    );
    expect(sold.errors?.[0].extensions.code).toBe('SEAT_UNAVAILABLE');
  });

  it('cancels a hold, frees its seats, and cancelling again changes nothing', async () => {
    const session = await createSession(testApp);
    const carol = await testApp.token(uniqueUser('carol'));
    const seat = session.seats[5];
    const reserved = await testApp.graphql<{ reserve: ReservationView }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [seat.id] } },
      carol,
    );
    const reservationId = reserved.data!.reserve.id;

    const cancelled = await testApp.graphql<{
      cancelReservation: { status: string; seats: { status: string; version: number }[] };
    }>(CANCEL_RESERVATION, { reservationId }, carol);
    expect(cancelled.data!.cancelReservation).toEqual({
      id: reservationId,
      status: 'CANCELLED',
      seats: [{ id: seat.id, status: 'AVAILABLE', version: 3 }],
    });
    expect(await lockedSeatCount(testApp, session.id, [seat.id])).toBe(0);

    const twice = await testApp.graphql<{ cancelReservation: { status: string } }>(
      CANCEL_RESERVATION,
      { reservationId },
      carol,
    );
    expect(twice.data!.cancelReservation.status).toBe('CANCELLED');

    const payCancelled = await testApp.graphql(CONFIRM_PAYMENT, { reservationId }, carol);
    expect(payCancelled.errors?.[0].extensions.code).toBe('INVALID_STATE');

    const dave = await testApp.token(uniqueUser('dave'));
    const retaken = await testApp.graphql<{ reserve: ReservationView }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [seat.id] } },
      dave,
    );
    expect(retaken.data!.reserve.seats[0]).toMatchObject({ status: 'RESERVED', version: 4 });
  });

  it('returns the first reservation for a repeated idempotency key, and refuses the key for another request', async () => {
    const session = await createSession(testApp);
    const erin = await testApp.token(uniqueUser('erin'));
    const input = {
      sessionId: session.id,
      seatIds: [session.seats[0].id, session.seats[1].id],
      idempotencyKey: 'checkout-42',
    };

    const first = await testApp.graphql<{ reserve: ReservationView }>(RESERVE, { input }, erin);
    const retry = await testApp.graphql<{ reserve: ReservationView }>(
      RESERVE,
      { input: { ...input, seatIds: [...input.seatIds].reverse() } },
      erin,
    );
    expect(retry.errors).toBeUndefined();
    expect(retry.data!.reserve.id).toBe(first.data!.reserve.id);

    const concurrent = await Promise.all(
      [1, 2, 3].map(() => testApp.graphql<{ reserve: ReservationView }>(RESERVE, { input }, erin)),
    );
    expect(new Set(concurrent.map((response) => response.data?.reserve.id))).toEqual(
      new Set([first.data!.reserve.id]),
    );

    const misuse = await testApp.graphql(
      RESERVE,
      { input: { ...input, seatIds: [session.seats[2].id] } },
      erin,
    );
    expect(misuse.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'idempotencyKey' });

    // The key belongs to one user: another user with the same key makes their own reservation.
    const frank = await testApp.token(uniqueUser('frank'));
    const other = await testApp.graphql<{ reserve: ReservationView }>(
      RESERVE,
      { input: { ...input, seatIds: [session.seats[3].id] } },
      frank,
    );
    expect(other.data!.reserve.id).not.toBe(first.data!.reserve.id);
  });

  it('lists my reservations by status, newest first', async () => {
    const session = await createSession(testApp);
    const gina = await testApp.token(uniqueUser('gina'));
    const one = await testApp.graphql<{ reserve: ReservationView }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[0].id] } },
      gina,
    );
    const two = await testApp.graphql<{ reserve: ReservationView }>(
      RESERVE,
      { input: { sessionId: session.id, seatIds: [session.seats[1].id] } },
      gina,
    );
    await testApp.graphql(CANCEL_RESERVATION, { reservationId: one.data!.reserve.id }, gina);

    const all = await testApp.graphql<{ myReservations: { id: string; status: string }[] }>(
      `{ myReservations { id status } }`,
      {},
      gina,
    );
    expect(all.data!.myReservations).toEqual([
      { id: two.data!.reserve.id, status: 'PENDING' },
      { id: one.data!.reserve.id, status: 'CANCELLED' },
    ]);
    const pending = await testApp.graphql<{ myReservations: { id: string }[] }>(
      `query ($status: ReservationStatus) { myReservations(status: $status) { id } }`,
      { status: 'PENDING' },
      gina,
    );
    expect(pending.data!.myReservations).toEqual([{ id: two.data!.reserve.id }]);
  });
});
