import { randomUUID } from 'node:crypto';
import { Seat } from '../../src/entities/seat.entity';
import { Session } from '../../src/entities/session.entity';
import { rowLetters } from '../../src/seating/seat-label';
import { GapRule, SeatKind } from '../../src/entities/enums';
import { STANDARD_CATEGORY } from '../../src/seating/auditorium-layout';
import { sessionSpan } from '../../src/seating/schedule';
import { SeatLocks } from '../../src/infra/seat-locks';
import { CreateSessionDocument } from '../../client/generated/graphql';
import { type TestApp } from './test-app';

/** What the tests read back of a session. */
export interface SessionFixture {
  readonly id: string;
  readonly seats: { id: string; label: string; status: string; version: number }[];
}

// The operations tests send are the generated typed documents of client/operations.
export {
  CancelReservationDocument as CANCEL_RESERVATION,
  ConfirmPaymentDocument as CONFIRM_PAYMENT,
  CreateSessionDocument as CREATE_SESSION,
  ReserveDocument as RESERVE,
  ReserveBestAvailableDocument as RESERVE_BEST_AVAILABLE,
} from '../../client/generated/graphql';

/** Creates a session through the API as an admin. */
export async function createSession(
  testApp: Pick<TestApp, 'graphql' | 'token'>,
  overrides: Partial<{ rows: number; seatsPerRow: number; priceCents: number; startsAt: string }> = {},
): Promise<SessionFixture> {
  const admin = await testApp.token(`admin-${randomUUID()}`, { admin: true });
  const response = await testApp.graphql(
    CreateSessionDocument,
    {
      input: {
        movie: 'The Test Movie',
        room: 'Room 1',
        startsAt: overrides.startsAt ?? new Date(Date.now() + 86_400_000).toISOString(),
        priceCents: overrides.priceCents ?? 1_250,
        rows: overrides.rows ?? 3,
        seatsPerRow: overrides.seatsPerRow ?? 4,
      },
    },
    admin,
  );
  if (!response.data?.createSession) {
    throw new Error(`createSession failed: ${JSON.stringify(response.errors)}`);
  }
  return response.data.createSession;
}

/** A session that has already started, written straight to the database (the API refuses it). */
export async function insertStartedSession(testApp: TestApp): Promise<SessionFixture> {
  const em = testApp.app.orm.em.fork();
  const startsAt = new Date(Date.now() - 60_000);
  const session = em.create(Session, {
    movie: 'Started',
    room: 'Room 2',
    startsAt,
    durationMinutes: 120,
    ...sessionSpan(startsAt, 120, 0),
    priceCents: 900,
    prices: [{ category: STANDARD_CATEGORY, priceCents: 900 }],
    gapRule: GapRule.OFF,
    rows: 1,
    seatsPerRow: 2,
  });
  const seats = [1, 2].map((number) =>
    em.create(Seat, {
      session,
      rowIndex: 0,
      row: rowLetters(0),
      number,
      x: number - 1,
      category: STANDARD_CATEGORY,
      kind: SeatKind.STANDARD,
      priceCents: 900,
    }),
  );
  await em.flush();
  return {
    id: session.id,
    seats: seats.map((seat) => ({ id: seat.id, label: `A${seat.number}`, status: 'AVAILABLE', version: 1 })),
  };
}

/** Rows the booking path may leave behind for a session: the "nothing left behind" check. */
export async function sessionFootprint(testApp: TestApp, sessionId: string) {
  const em = testApp.app.orm.em.fork();
  const [row] = await em.execute<
    { reservations: number; links: number; sales: number; outbox: number; changed: number }[]
  >(
    `select
       (select count(*)::int from reservation where session_id = ?) as reservations,
       (select count(*)::int from reservation_seat rs join seat s on s.id = rs.seat_id where s.session_id = ?) as links,
       (select count(*)::int from sale where session_id = ?) as sales,
       (select count(*)::int from outbox_event where payload->>'sessionId' = ?) as outbox,
       (select count(*)::int from seat where session_id = ? and (status <> 'AVAILABLE' or version <> 1)) as changed`,
    [sessionId, sessionId, sessionId, sessionId, sessionId],
  );
  return row;
}

/** How many of the given seats have a Redis lock. */
export async function lockedSeatCount(
  testApp: TestApp,
  sessionId: string,
  seatIds: readonly string[],
): Promise<number> {
  if (seatIds.length === 0) {
    return 0;
  }
  return testApp.app.redis.exists(...seatIds.map((seatId) => SeatLocks.key(sessionId, seatId)));
}

/**
 * Runs `act` and checks it left the session as it was: no reservation, link, sale, outbox row
 * or changed seat, and no Redis lock on any of its seats.
 */
export async function expectNothingLeftBehind(
  testApp: TestApp,
  session: SessionFixture,
  act: () => Promise<void>,
): Promise<void> {
  const before = await sessionFootprint(testApp, session.id);
  await act();
  expect(await sessionFootprint(testApp, session.id)).toEqual(before);
  expect(
    await lockedSeatCount(
      testApp,
      session.id,
      session.seats.map((seat) => seat.id),
    ),
  ).toBe(0);
}
