import { randomUUID } from 'node:crypto';
import {
  AuditoriumScheduleDocument,
  ConfirmPaymentDocument,
  CreateAuditoriumDocument,
  type CreateAuditoriumInput,
  CreateSessionDocument,
  ReserveDocument,
  type ScheduleSessionInput,
  ScheduleSessionDocument,
  SeatMapDocument,
} from '../../client/generated/graphql';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

const HOUR = 3_600_000;
const MINUTE = 60_000;

/** Seed 004's room: a centre aisle, a premium back row, a wheelchair space and its companion seat. */
function hallInput(overrides: Partial<CreateAuditoriumInput> = {}): CreateAuditoriumInput {
  return {
    name: `Sala ${randomUUID()}`,
    legend: [
      { symbol: 's', category: 'STANDARD' },
      { symbol: 'P', category: 'PREMIUM' },
      { symbol: 'w', category: 'STANDARD', kind: 'WHEELCHAIR' },
      { symbol: 'c', category: 'STANDARD', kind: 'COMPANION' },
    ],
    rows: ['wc.ss', 'ss.ss', 'PP.PP'],
    cleaningBufferMinutes: 15,
    ...overrides,
  };
}

describe('scheduling sessions in auditoriums', () => {
  let testApp: TestApp;
  let admin: string;
  // Far enough ahead that every test has its own stretch of time in its own auditorium.
  const base = new Date(Date.now() + 30 * 24 * HOUR);
  base.setUTCSeconds(0, 0);
  const at = (minutes: number) => new Date(base.getTime() + minutes * MINUTE).toISOString();

  beforeAll(async () => {
    testApp = await startTestApp();
    admin = await testApp.token(uniqueUser('admin'), { admin: true });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  async function createHall(overrides: Partial<CreateAuditoriumInput> = {}): Promise<string> {
    const response = await testApp.graphql(CreateAuditoriumDocument, { input: hallInput(overrides) }, admin);
    expect(response.errors).toBeUndefined();
    return response.data!.createAuditorium.id;
  }

  function scheduleInput(
    auditoriumId: string,
    overrides: Partial<ScheduleSessionInput> = {},
  ): ScheduleSessionInput {
    return {
      auditoriumId,
      movie: 'Central do Brasil',
      startsAt: at(0),
      durationMinutes: 120,
      prices: [
        { category: 'STANDARD', priceCents: 2_000 },
        { category: 'PREMIUM', priceCents: 3_500 },
      ],
      ...overrides,
    };
  }

  async function schedule(auditoriumId: string, overrides: Partial<ScheduleSessionInput> = {}) {
    return testApp.graphql(ScheduleSessionDocument, { input: scheduleInput(auditoriumId, overrides) }, admin);
  }

  async function scheduled(
    auditoriumId: string,
    overrides: Partial<ScheduleSessionInput> = {},
  ): Promise<string> {
    const response = await schedule(auditoriumId, overrides);
    expect(response.errors).toBeUndefined();
    return response.data!.scheduleSession.id;
  }

  async function sessionCount(): Promise<number> {
    const [row] = await testApp.app.orm.em
      .fork()
      .execute<{ count: number }[]>('select count(*)::int as count from session');
    return row.count;
  }

  it("generates the layout's seats with their category, kind, price and place, and the session's facts", async () => {
    const auditoriumId = await createHall({ name: `Sala Uno ${randomUUID()}` });
    const response = await schedule(auditoriumId, { gapRule: null });
    expect(response.errors).toBeUndefined();
    const session = response.data!.scheduleSession;
    expect(session).toMatchObject({
      movie: 'Central do Brasil',
      room: expect.stringMatching(/^Sala Uno /),
      startsAt: at(0),
      endsAt: at(120),
      priceCents: 2_000,
      prices: [
        { category: 'STANDARD', priceCents: 2_000 },
        { category: 'PREMIUM', priceCents: 3_500 },
      ],
      gapRule: 'NO_SINGLE_SEAT',
      auditorium: { id: auditoriumId },
      rows: 3,
      seatsPerRow: 4,
      availableSeats: 12,
    });
    const seat = (label: string) => session.seats.find((candidate) => candidate.label === label);
    expect(session.seats.map((candidate) => candidate.label)).toEqual([
      'A1',
      'A2',
      'A3',
      'A4',
      'B1',
      'B2',
      'B3',
      'B4',
      'C1',
      'C2',
      'C3',
      'C4',
    ]);
    expect(seat('A1')).toMatchObject({
      x: 0,
      y: 0,
      kind: 'WHEELCHAIR',
      category: 'STANDARD',
      priceCents: 2_000,
    });
    expect(seat('A2')).toMatchObject({ x: 1, y: 0, kind: 'COMPANION' });
    // The aisle takes no number: A3 stands after it.
    expect(seat('A3')).toMatchObject({ x: 3, y: 0, kind: 'STANDARD' });
    expect(seat('C4')).toMatchObject({ x: 4, y: 2, category: 'PREMIUM', priceCents: 3_500 });

    const read = await testApp.graphql(SeatMapDocument, { id: session.id });
    expect(read.data?.session).toMatchObject({ endsAt: at(120), auditorium: { id: auditoriumId } });
  });

  it("refuses the seed's conflicts (total, partial, back-to-back inside the buffer) and accepts a clear slot", async () => {
    const auditoriumId = await createHall();
    // Occupies [0, 120 + 15) minutes.
    const first = await scheduled(auditoriumId, { startsAt: at(0), durationMinutes: 120 });
    const conflicts: [string, Partial<ScheduleSessionInput>][] = [
      ['total overlap', { startsAt: at(30), durationMinutes: 60 }],
      ['partial overlap', { startsAt: at(90), durationMinutes: 120 }],
      ['back-to-back inside the buffer', { startsAt: at(125), durationMinutes: 90 }],
      ['ending inside the other', { startsAt: at(-60), durationMinutes: 90 }],
    ];
    for (const [, overrides] of conflicts) {
      const before = await sessionCount();
      const response = await schedule(auditoriumId, overrides);
      expect(response.data).toBeNull();
      expect(response.errors?.[0]?.extensions).toMatchObject({
        code: 'SCHEDULE_CONFLICT',
        sessionIds: [first],
      });
      expect(response.errors?.[0]?.message).toMatch(/busy/);
      expect(await sessionCount()).toBe(before);
    }
    // Its own cleaning buffer would run into the first's start.
    const intoNext = await schedule(auditoriumId, { startsAt: at(-110), durationMinutes: 100 });
    expect(intoNext.errors?.[0]?.extensions).toMatchObject({
      code: 'SCHEDULE_CONFLICT',
      sessionIds: [first],
    });
    // Clear: once the buffer has passed, and before the first (its own buffer ends at the first's start).
    const after = await scheduled(auditoriumId, { startsAt: at(135), durationMinutes: 90 });
    const before = await scheduled(auditoriumId, { startsAt: at(-120), durationMinutes: 105 });
    // A session in the way of two reports both.
    const both = await schedule(auditoriumId, { startsAt: at(100), durationMinutes: 60 });
    expect(both.errors?.[0]?.extensions).toMatchObject({
      code: 'SCHEDULE_CONFLICT',
      sessionIds: [first, after],
    });

    const listed = await testApp.graphql(AuditoriumScheduleDocument, { id: auditoriumId });
    expect(listed.data?.auditorium?.sessions.map((session) => session.id)).toEqual([before, first, after]);
    const ranged = await testApp.graphql(AuditoriumScheduleDocument, {
      id: auditoriumId,
      from: at(0),
      to: at(135),
    });
    expect(ranged.data?.auditorium?.sessions.map((session) => session.id)).toEqual([first]);
    const reversed = await testApp.graphql(AuditoriumScheduleDocument, {
      id: auditoriumId,
      from: at(10),
      to: at(0),
    });
    expect(reversed.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('lets one of many concurrent schedulers of one slot win; PostgreSQL refuses the others', async () => {
    const auditoriumId = await createHall();
    const responses = await Promise.all(
      Array.from({ length: 8 }, (_, index) =>
        schedule(auditoriumId, { startsAt: at(1_000 + index * 10), durationMinutes: 60 }),
      ),
    );
    const winners = responses.filter((response) => response.data?.scheduleSession);
    expect(winners).toHaveLength(1);
    const winner = winners[0].data!.scheduleSession.id;
    for (const response of responses.filter((candidate) => candidate.errors)) {
      expect(response.errors![0].extensions).toMatchObject({
        code: 'SCHEDULE_CONFLICT',
        sessionIds: [winner],
      });
    }
    const [row] = await testApp.app.orm.em.fork().execute<{ count: number; seats: number }[]>(
      `select count(distinct session.id)::int as count, count(seat.id)::int as seats
           from session left join seat on seat.session_id = session.id where auditorium_id = ?`,
      [auditoriumId],
    );
    expect(row).toEqual({ count: 1, seats: 12 });
  });

  it('is enforced by PostgreSQL itself: an overlapping row written past the API is refused', async () => {
    const auditoriumId = await createHall();
    const first = await scheduled(auditoriumId, { startsAt: at(3_000), durationMinutes: 60 });
    const em = testApp.app.orm.em.fork();
    const copy = (startMinutes: number) =>
      em.execute(
        `insert into session (id, movie, room, starts_at, duration_minutes, ends_at, busy_until, auditorium_id,
                              price_cents, prices, gap_rule, rows, seats_per_row)
         select gen_random_uuid(), movie, room, starts_at + make_interval(mins => ?), duration_minutes,
                ends_at + make_interval(mins => ?), busy_until + make_interval(mins => ?), auditorium_id,
                price_cents, prices, gap_rule, rows, seats_per_row
           from session where id = ?`,
        [startMinutes, startMinutes, startMinutes, first],
      );
    // 74 minutes later still starts inside its 60 + 15 minutes; 75 minutes later is clear.
    await expect(copy(74)).rejects.toMatchObject({
      code: '23P01',
      constraint: 'session_auditorium_schedule_exclusion',
    });
    await expect(copy(75)).resolves.toBeDefined();
  });

  it('schedules other auditoriums, and one-off createSession rooms, at the same time', async () => {
    const [one, two] = [await createHall(), await createHall()];
    await scheduled(one, { startsAt: at(2_000) });
    await scheduled(two, { startsAt: at(2_000) });
    const oneOff = await testApp.graphql(
      CreateSessionDocument,
      {
        input: {
          movie: 'Legacy',
          room: 'Sala 1',
          startsAt: at(2_000),
          priceCents: 900,
          rows: 2,
          seatsPerRow: 3,
        },
      },
      admin,
    );
    expect(oneOff.errors).toBeUndefined();
    const read = await testApp.graphql(SeatMapDocument, { id: oneOff.data!.createSession.id });
    expect(read.data?.session).toMatchObject({
      endsAt: at(2_120),
      auditorium: null,
      gapRule: 'OFF',
      prices: [{ category: 'STANDARD', priceCents: 900 }],
      seatsPerRow: 3,
    });
    expect(read.data?.session?.seats[4]).toMatchObject({
      label: 'B2',
      x: 1,
      y: 1,
      kind: 'STANDARD',
      priceCents: 900,
    });
  });

  it('refuses bad input with the contract code, and creates nothing', async () => {
    const auditoriumId = await createHall();
    const customer = await testApp.token(uniqueUser());
    const cases: [string, Partial<ScheduleSessionInput>, string, Record<string, unknown>?][] = [
      ['unknown auditorium', { auditoriumId: randomUUID() }, 'NOT_FOUND'],
      ['malformed auditorium id', { auditoriumId: 'sala-1' }, 'BAD_USER_INPUT', { field: 'auditoriumId' }],
      [
        'missing price',
        { prices: [{ category: 'STANDARD', priceCents: 100 }] },
        'BAD_USER_INPUT',
        { field: 'prices', category: 'PREMIUM' },
      ],
      [
        'extra price',
        {
          prices: [
            { category: 'STANDARD', priceCents: 100 },
            { category: 'PREMIUM', priceCents: 200 },
            { category: 'VIP', priceCents: 300 },
          ],
        },
        'BAD_USER_INPUT',
        { field: 'prices', category: 'VIP' },
      ],
      [
        'duplicate price',
        {
          prices: [
            { category: 'STANDARD', priceCents: 100 },
            { category: ' STANDARD', priceCents: 100 },
            { category: 'PREMIUM', priceCents: 200 },
          ],
        },
        'BAD_USER_INPUT',
        { field: 'prices', category: 'STANDARD' },
      ],
      [
        'negative price',
        {
          prices: [
            { category: 'STANDARD', priceCents: -1 },
            { category: 'PREMIUM', priceCents: 200 },
          ],
        },
        'BAD_USER_INPUT',
      ],
      ['duration 0', { durationMinutes: 0 }, 'BAD_USER_INPUT'],
      ['duration over 24 h', { durationMinutes: 24 * 60 + 1 }, 'BAD_USER_INPUT'],
      [
        'a start in the past',
        { startsAt: new Date(Date.now() - HOUR).toISOString() },
        'BAD_USER_INPUT',
        { field: 'startsAt' },
      ],
      ['a blank movie', { movie: '   ' }, 'BAD_USER_INPUT', { field: 'movie' }],
      ['a NUL in the movie', { movie: 'a\u0000b' }, 'BAD_USER_INPUT', { field: 'movie' }],
      [
        'a start in the year 9999',
        { startsAt: '9999-12-31T23:00:00Z' },
        'BAD_USER_INPUT',
        { field: 'startsAt' },
      ],
    ];
    for (const [what, overrides, code, extensions] of cases) {
      const before = await sessionCount();
      const response = await schedule(auditoriumId, { startsAt: at(5_000), ...overrides });
      expect({ what, code: response.errors?.[0]?.extensions?.code }).toEqual({ what, code });
      if (extensions) {
        expect(response.errors?.[0]?.extensions).toMatchObject(extensions);
      }
      expect(await sessionCount()).toBe(before);
    }
    const forbidden = await testApp.graphql(
      ScheduleSessionDocument,
      { input: scheduleInput(auditoriumId, { startsAt: at(5_000) }) },
      customer,
    );
    expect(forbidden.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const anonymous = await testApp.graphql(ScheduleSessionDocument, {
      input: scheduleInput(auditoriumId, { startsAt: at(5_000) }),
    });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('prices a reservation and its sale as the sum of their seats, by category', async () => {
    const sessionId = await scheduled(await createHall());
    const map = await testApp.graphql(SeatMapDocument, { id: sessionId });
    const seatId = (label: string) => map.data!.session!.seats.find((seat) => seat.label === label)!.id;
    const user = await testApp.token(uniqueUser());
    const reserved = await testApp.graphql(
      ReserveDocument,
      { input: { sessionId, seatIds: [seatId('B3'), seatId('B4'), seatId('C1'), seatId('C2')] } },
      user,
    );
    expect(reserved.errors).toBeUndefined();
    expect(reserved.data!.reserve.totalCents).toBe(2_000 + 2_000 + 3_500 + 3_500);
    const paid = await testApp.graphql(
      ConfirmPaymentDocument,
      { reservationId: reserved.data!.reserve.id },
      user,
    );
    expect(paid.data!.confirmPayment.amountCents).toBe(11_000);

    // Events (and the receipts made from them) carry the amounts; seat snapshots their prices.
    const events = await testApp.app.orm.em
      .fork()
      .execute<{ topic: string; payload: Record<string, unknown> }[]>(
        `select topic, payload from outbox_event where payload->>'sessionId' = ? order by id`,
        [sessionId],
      );
    expect(events.filter((event) => event.topic.startsWith('reservation.'))).toEqual([
      { topic: 'reservation.created', payload: expect.objectContaining({ totalCents: 11_000 }) },
      { topic: 'reservation.confirmed', payload: expect.objectContaining({ totalCents: 11_000 }) },
    ]);
    const held = events.find((event) => event.topic === 'seat.status-changed')!.payload.seats;
    expect(held).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          id: seatId('C1'),
          category: 'PREMIUM',
          priceCents: 3_500,
          x: 0,
          kind: 'STANDARD',
        }),
        expect.objectContaining({ id: seatId('B4'), category: 'STANDARD', priceCents: 2_000, x: 4 }),
      ]),
    );
  });

  it('reserves a companion seat only together with a wheelchair space, and leaves nothing behind otherwise', async () => {
    const sessionId = await scheduled(await createHall());
    const map = await testApp.graphql(SeatMapDocument, { id: sessionId });
    const seatId = (label: string) => map.data!.session!.seats.find((seat) => seat.label === label)!.id;
    const user = await testApp.token(uniqueUser());
    const alone = await testApp.graphql(
      ReserveDocument,
      { input: { sessionId, seatIds: [seatId('A2'), seatId('A3')] } },
      user,
    );
    expect(alone.errors?.[0]?.extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      rule: 'COMPANION_NEEDS_WHEELCHAIR',
      seatIds: [seatId('A2')],
    });
    const after = await testApp.graphql(SeatMapDocument, { id: sessionId });
    expect(after.data!.session!.seats.filter((seat) => seat.status !== 'AVAILABLE')).toEqual([]);
    const [row] = await testApp.app.orm.em.fork().execute<{ reservations: number; outbox: number }[]>(
      `select (select count(*)::int from reservation where session_id = ?) as reservations,
                (select count(*)::int from outbox_event where payload->>'sessionId' = ?) as outbox`,
      [sessionId, sessionId],
    );
    expect(row).toEqual({ reservations: 0, outbox: 0 });

    const together = await testApp.graphql(
      ReserveDocument,
      { input: { sessionId, seatIds: [seatId('A1'), seatId('A2')] } },
      user,
    );
    expect(together.errors).toBeUndefined();
    expect(together.data!.reserve.totalCents).toBe(4_000);
  });
});
