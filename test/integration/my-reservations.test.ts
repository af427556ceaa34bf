import {
  RefundSaleDocument,
  type RefundSaleMutation,
  type RefundSaleMutationVariables,
} from '../../client/generated/graphql';
import { CANCEL_RESERVATION, CONFIRM_PAYMENT, createSession, RESERVE } from '../support/factories';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

interface Listed {
  id: string;
  status: string;
  totalCents: number;
  session: { id: string; movie: string };
  seats: { id: string; label: string; status: string }[];
  sale: { id: string; status: string } | null;
}

const MY_RESERVATIONS = `query ($status: ReservationStatus) {
  myReservations(status: $status) {
    id status totalCents session { id movie } seats { id label status } sale { id status }
  }
}`;

/**
 * `myReservations` answers from one statement per request (a read model, not entities and
 * loaders): every change a user makes — hold, payment, cancel, refund — and the end of a hold by
 * the clock shows in their very next read, with the seats as they are now.
 */
describe('myReservations', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({ HOLD_SECONDS: '30' });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  async function mine(token: string, status?: string): Promise<Listed[]> {
    const response = await testApp.graphql<{ myReservations: Listed[] }>(
      MY_RESERVATIONS,
      status ? { status } : {},
      token,
    );
    expect(response.errors).toBeUndefined();
    return response.data!.myReservations;
  }

  async function reserve(sessionId: string, seatIds: string[], token: string): Promise<string> {
    const reserved = await testApp.graphql<{ reserve: { id: string } }>(
      RESERVE,
      { input: { sessionId, seatIds } },
      token,
    );
    expect(reserved.errors).toBeUndefined();
    return reserved.data!.reserve.id;
  }

  /** Moves the hold of `reservationId` (and its seats) into the past, as the clock would. */
  async function endHold(reservationId: string): Promise<void> {
    await testApp.app.orm.em.fork().execute(
      `with moved as (
         update reservation set created_at = created_at - interval '1 hour', expires_at = now() - interval '1 second'
          where id = ? and status = 'PENDING'
         returning id, expires_at
       )
       update seat s set hold_expires_at = moved.expires_at
         from reservation_seat rs join moved on moved.id = rs.reservation_id
        where rs.live and s.id = rs.seat_id and s.status = 'RESERVED'`,
      [reservationId],
    );
  }

  it('shows a hold at once, newest first, with its seats and session, to its owner only', async () => {
    const session = await createSession(testApp, { rows: 2, seatsPerRow: 4, priceCents: 900 });
    const owner = await testApp.token(uniqueUser('owner'));
    const other = await testApp.token(uniqueUser('other'));
    expect(await mine(owner)).toEqual([]);

    // Seats given out of order: listed by row, then number.
    const first = await reserve(session.id, [session.seats[5].id, session.seats[0].id], owner);
    expect(await mine(owner)).toEqual([
      {
        id: first,
        status: 'PENDING',
        totalCents: 1_800,
        session: { id: session.id, movie: 'The Test Movie' },
        seats: [
          { id: session.seats[0].id, label: 'A1', status: 'RESERVED' },
          { id: session.seats[5].id, label: 'B2', status: 'RESERVED' },
        ],
        sale: null,
      },
    ]);
    const second = await reserve(session.id, [session.seats[1].id], owner);
    expect((await mine(owner)).map((listed) => listed.id)).toEqual([second, first]);
    expect(await mine(other)).toEqual([]);
  });

  it('shows a cancel, a payment and a refund in the very next read, seats as they are now', async () => {
    const session = await createSession(testApp, {
      rows: 1,
      seatsPerRow: 4,
      startsAt: new Date(Date.now() + 3 * 86_400_000).toISOString(),
    });
    const owner = await testApp.token(uniqueUser('owner'));
    const [a, b, c] = session.seats;
    const cancelled = await reserve(session.id, [a.id], owner);
    const paid = await reserve(session.id, [b.id, c.id], owner);
    expect((await mine(owner)).map((listed) => listed.status)).toEqual(['PENDING', 'PENDING']);

    const cancel = await testApp.graphql(CANCEL_RESERVATION, { reservationId: cancelled }, owner);
    expect(cancel.errors).toBeUndefined();
    const afterCancel = await mine(owner);
    expect(afterCancel.find((listed) => listed.id === cancelled)).toMatchObject({
      status: 'CANCELLED',
      seats: [{ id: a.id, status: 'AVAILABLE' }],
    });
    expect((await mine(owner, 'CANCELLED')).map((listed) => listed.id)).toEqual([cancelled]);
    expect((await mine(owner, 'PENDING')).map((listed) => listed.id)).toEqual([paid]);

    const confirm = await testApp.graphql<{ confirmPayment: { id: string } }>(
      CONFIRM_PAYMENT,
      { reservationId: paid },
      owner,
    );
    expect(confirm.errors).toBeUndefined();
    const saleId = confirm.data!.confirmPayment.id;
    expect((await mine(owner, 'CONFIRMED'))[0]).toMatchObject({
      id: paid,
      status: 'CONFIRMED',
      seats: [
        { id: b.id, status: 'SOLD' },
        { id: c.id, status: 'SOLD' },
      ],
      sale: { id: saleId, status: 'PAID' },
    });
    expect(await mine(owner, 'PENDING')).toEqual([]);

    const refund = await testApp.graphql<RefundSaleMutation, RefundSaleMutationVariables>(
      RefundSaleDocument,
      { saleId },
      owner,
    );
    expect(refund.errors).toBeUndefined();
    expect((await mine(owner, 'CONFIRMED'))[0]).toMatchObject({
      id: paid,
      seats: [
        { id: b.id, status: 'AVAILABLE' },
        { id: c.id, status: 'AVAILABLE' },
      ],
      sale: { id: saleId, status: 'REFUNDED' },
    });
  });

  it('reads a hold that ended by the clock as EXPIRED with its seats free, before any worker marks it', async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 3 });
    const owner = await testApp.token(uniqueUser('owner'));
    const [a, b] = session.seats;
    const ending = await reserve(session.id, [a.id], owner);
    const running = await reserve(session.id, [b.id], owner);

    await endHold(ending);
    const listed = await mine(owner);
    expect(listed.map((reservation) => [reservation.id, reservation.status])).toEqual([
      [running, 'PENDING'],
      [ending, 'EXPIRED'],
    ]);
    expect(listed[1].seats).toEqual([{ id: a.id, label: 'A1', status: 'AVAILABLE' }]);
    expect(listed[0].seats).toEqual([{ id: b.id, label: 'A2', status: 'RESERVED' }]);
    expect((await mine(owner, 'EXPIRED')).map((reservation) => reservation.id)).toEqual([ending]);
    expect((await mine(owner, 'PENDING')).map((reservation) => reservation.id)).toEqual([running]);
  });
});
