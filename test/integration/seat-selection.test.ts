import { randomUUID } from 'node:crypto';
import {
  type BestAvailableInput,
  CreateAuditoriumDocument,
  type LayoutSymbolInput,
  ReserveBestAvailableDocument,
  ReserveDocument,
  ScheduleSessionDocument,
  SeatMapDocument,
} from '../../client/generated/graphql';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

const DAY = 86_400_000;
const STANDARD: LayoutSymbolInput = { symbol: 's', category: 'STANDARD' };
const PREMIUM: LayoutSymbolInput = { symbol: 'P', category: 'PREMIUM' };

/** A scheduled session of `rows`, with its seat ids by label. */
interface TestSession {
  readonly id: string;
  readonly seat: (label: string) => string;
  readonly label: (seatId: string) => string;
}

describe('choosing seats: best available and the gap rule', () => {
  let testApp: TestApp;
  let admin: string;
  let slot = 0;

  beforeAll(async () => {
    testApp = await startTestApp();
    admin = await testApp.token(uniqueUser('admin'), { admin: true });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  async function session(
    rows: string[],
    {
      gapRule = 'NO_SINGLE_SEAT',
      legend = [STANDARD],
    }: { gapRule?: 'OFF' | 'NO_SINGLE_SEAT'; legend?: LayoutSymbolInput[] } = {},
  ): Promise<TestSession> {
    const auditorium = await testApp.graphql(
      CreateAuditoriumDocument,
      { input: { name: `Room ${randomUUID()}`, legend, rows } },
      admin,
    );
    expect(auditorium.errors).toBeUndefined();
    const categories = [...new Set(legend.map((symbol) => symbol.category))];
    slot += 1;
    const scheduled = await testApp.graphql(
      ScheduleSessionDocument,
      {
        input: {
          auditoriumId: auditorium.data!.createAuditorium.id,
          movie: 'Seat selection',
          startsAt: new Date(Date.now() + DAY + slot * 60_000).toISOString(),
          durationMinutes: 90,
          prices: categories.map((category, index) => ({ category, priceCents: 1_000 + index * 500 })),
          gapRule,
        },
      },
      admin,
    );
    expect(scheduled.errors).toBeUndefined();
    const seats = scheduled.data!.scheduleSession.seats;
    const byLabel = new Map(seats.map((seat) => [seat.label, seat.id]));
    const byId = new Map(seats.map((seat) => [seat.id, seat.label]));
    return {
      id: scheduled.data!.scheduleSession.id,
      seat: (label) => byLabel.get(label)!,
      label: (seatId) => byId.get(seatId)!,
    };
  }

  async function best(
    target: TestSession,
    quantity: number,
    options: { category?: string; accessible?: boolean; token?: string } = {},
  ) {
    const token = options.token ?? (await testApp.token(uniqueUser()));
    const response = await testApp.graphql(
      ReserveBestAvailableDocument,
      {
        input: { sessionId: target.id, quantity, category: options.category, accessible: options.accessible },
      },
      token,
    );
    return {
      response,
      labels: response.data?.reserveBestAvailable.seats.map((seat) => seat.label) ?? null,
      code: response.errors?.[0]?.extensions?.code,
      extensions: response.errors?.[0]?.extensions,
    };
  }

  async function reserveLabels(target: TestSession, labels: string[], token?: string) {
    const response = await testApp.graphql(
      ReserveDocument,
      { input: { sessionId: target.id, seatIds: labels.map(target.seat) } },
      token ?? (await testApp.token(uniqueUser())),
    );
    return {
      ok: response.data?.reserve !== undefined && response.data?.reserve !== null,
      code: response.errors?.[0]?.extensions?.code,
      seatLabels: ((response.errors?.[0]?.extensions?.seatIds as string[] | undefined) ?? []).map(
        target.label,
      ),
    };
  }

  /** The available seats of a session left alone between taken seats, gaps or row ends. */
  async function isolatedSeats(sessionId: string): Promise<string[]> {
    const rows = await testApp.app.orm.em.fork().execute<{ id: string }[]>(
      `with s as (select id, row_index, x, status = 'AVAILABLE' as free from seat where session_id = ?),
            n as (select id, free,
                         coalesce(lag(x) over w = x - 1 and lag(free) over w, false) as left_free,
                         coalesce(lead(x) over w = x + 1 and lead(free) over w, false) as right_free
                    from s window w as (partition by row_index order by x))
       select id from n where free and not left_free and not right_free`,
      [sessionId],
    );
    return rows.map((row) => row.id);
  }

  describe('reserveBestAvailable', () => {
    it('takes the block nearest two thirds of the depth, centred; ties by row, then the left', async () => {
      // 6 rows: the ideal row is D (round(5 × 2/3) = 3); the middle column is x = 4 (the aisle).
      const target = await session(Array.from({ length: 6 }, () => 'ssss.ssss'));
      expect((await best(target, 2)).labels).toEqual(['D3', 'D4']);
      expect((await best(target, 2)).labels).toEqual(['D5', 'D6']);
      // D1 D2 and D7 D8 are as far from the middle: the left one first.
      expect((await best(target, 2)).labels).toEqual(['D1', 'D2']);
      expect((await best(target, 2)).labels).toEqual(['D7', 'D8']);
      // Row D is full; C and E are as near: the front one (smaller y) first.
      expect((await best(target, 2)).labels).toEqual(['C3', 'C4']);
    });

    it('skips blocks that would leave a single seat alone, unless the gap rule is off', async () => {
      const rows = Array.from({ length: 6 }, () => 'ssss.ssss');
      // Three of four seats between an aisle and a wall always leave one alone.
      const strict = await best(await session(rows), 3);
      expect(strict.code).toBe('SEAT_UNAVAILABLE');
      expect(strict.extensions).toMatchObject({ reason: 'NO_ADJACENT_BLOCK' });
      expect((await best(await session(rows, { gapRule: 'OFF' }), 3)).labels).toEqual(['D2', 'D3', 'D4']);
      expect((await best(await session(rows), 4)).labels).toEqual(['D1', 'D2', 'D3', 'D4']);
    });

    it('keeps to a category when asked, and refuses an unknown one', async () => {
      const target = await session(['ssss', 'ssss', 'PPPP'], { legend: [STANDARD, PREMIUM] });
      expect((await best(target, 2)).labels).toEqual(['B1', 'B2']);
      const premium = await best(target, 2, { category: 'PREMIUM' });
      expect(premium.labels).toEqual(['C1', 'C2']);
      expect(premium.response.data!.reserveBestAvailable.totalCents).toBe(3_000);
      const unknown = await best(target, 2, { category: 'VIP' });
      expect(unknown.code).toBe('BAD_USER_INPUT');
      expect(unknown.extensions).toMatchObject({ field: 'category' });
      for (const quantity of [0, 11]) {
        expect((await best(target, quantity)).code).toBe('BAD_USER_INPUT');
      }
    });

    it('gives accessible blocks (one wheelchair space and seats beside it) only when asked', async () => {
      const target = await session(['ssssss', 'wcsscw', 'ssssss'], {
        legend: [
          STANDARD,
          { symbol: 'w', category: 'STANDARD', kind: 'WHEELCHAIR' },
          { symbol: 'c', category: 'STANDARD', kind: 'COMPANION' },
        ],
      });
      expect((await best(target, 2)).labels).toEqual(['B3', 'B4']);
      const accessible = await best(target, 2, { accessible: true });
      expect(accessible.labels).toEqual(['B1', 'B2']);
      expect(accessible.response.data!.reserveBestAvailable.seats.map((seat) => seat.kind)).toEqual([
        'WHEELCHAIR',
        'COMPANION',
      ]);
      expect((await best(target, 2, { accessible: true })).labels).toEqual(['B5', 'B6']);
      expect((await best(target, 1, { accessible: true })).extensions).toMatchObject({
        code: 'SEAT_UNAVAILABLE',
        reason: 'NO_ADJACENT_BLOCK',
      });
    });

    it('gives concurrent callers on a nearly full room different blocks, or NO_ADJACENT_BLOCK', async () => {
      const target = await session(['ssssss', 'ssssss', 'ssssss'], { gapRule: 'OFF' });
      // Leave exactly three free pairs: A1 A2, B3 B4, C5 C6.
      expect((await reserveLabels(target, ['A3', 'A4', 'A5', 'A6'])).ok).toBe(true);
      expect((await reserveLabels(target, ['B1', 'B2', 'B5', 'B6'])).ok).toBe(true);
      expect((await reserveLabels(target, ['C1', 'C2', 'C3', 'C4'])).ok).toBe(true);
      const results = await Promise.all(Array.from({ length: 8 }, () => best(target, 2)));
      const won = results
        .filter((result) => result.labels !== null)
        .map((result) => result.labels!.join(' '));
      expect(won.sort()).toEqual(['A1 A2', 'B3 B4', 'C5 C6']);
      for (const lost of results.filter((result) => result.labels === null)) {
        expect(lost.extensions).toMatchObject({ code: 'SEAT_UNAVAILABLE', reason: 'NO_ADJACENT_BLOCK' });
      }
      const [row] = await testApp.app.orm.em.fork().execute<{ doubled: number; reserved: number }[]>(
        `select (select count(*)::int from (select seat_id from reservation_seat rs join seat s on s.id = rs.seat_id
                  where s.session_id = ? and rs.live group by seat_id having count(*) > 1) d) as doubled,
                (select count(*)::int from seat where session_id = ? and status = 'RESERVED') as reserved`,
        [target.id, target.id],
      );
      expect(row).toEqual({ doubled: 0, reserved: 18 });
    });

    it('returns the first reservation for a reused idempotency key', async () => {
      const target = await session(['ssssss', 'ssssss']);
      const token = await testApp.token(uniqueUser());
      const input: BestAvailableInput = {
        sessionId: target.id,
        quantity: 2,
        idempotencyKey: `best-${randomUUID()}`,
      };
      const [first, second] = await Promise.all([
        testApp.graphql(ReserveBestAvailableDocument, { input }, token),
        testApp.graphql(ReserveBestAvailableDocument, { input }, token),
      ]);
      expect(first.errors).toBeUndefined();
      expect(second.data?.reserveBestAvailable.id).toBe(first.data!.reserveBestAvailable.id);
      const other = await testApp.graphql(
        ReserveBestAvailableDocument,
        { input: { ...input, quantity: 3 } },
        token,
      );
      expect(other.errors?.[0]?.extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'idempotencyKey',
      });
    });
  });

  describe('the gap rule NO_SINGLE_SEAT on reserve', () => {
    it('refuses to leave one seat alone at the left edge, the right edge or beside an aisle', async () => {
      const row = await session(['ssssss']);
      expect(await reserveLabels(row, ['A2', 'A3'])).toEqual({
        ok: false,
        code: 'SEAT_GAP',
        seatLabels: ['A1'],
      });
      expect(await reserveLabels(row, ['A4', 'A5'])).toEqual({
        ok: false,
        code: 'SEAT_GAP',
        seatLabels: ['A6'],
      });
      const aisle = await session(['sss.sss']);
      expect(await reserveLabels(aisle, ['A5', 'A6'])).toEqual({
        ok: false,
        code: 'SEAT_GAP',
        seatLabels: ['A4'],
      });
      const both = await reserveLabels(row, ['A2', 'A5']);
      expect(both.code).toBe('SEAT_GAP');
      expect(both.seatLabels.sort()).toEqual(['A1', 'A6']);
      // Nothing of the refused selections was kept.
      expect(await isolatedSeats(row.id)).toEqual([]);
      const [held] = await testApp.app.orm.em
        .fork()
        .execute<{ count: number }[]>(
          `select count(*)::int as count from seat where session_id = ? and status <> 'AVAILABLE'`,
          [row.id],
        );
      expect(held.count).toBe(0);
    });

    it('accepts leaving two free seats together, or taking the lone seat too', async () => {
      const row = await session(['ssssss']);
      expect((await reserveLabels(row, ['A3', 'A4'])).ok).toBe(true);
      const other = await session(['ssssss']);
      expect((await reserveLabels(other, ['A1', 'A2', 'A3'])).ok).toBe(true);
      expect((await reserveLabels(other, ['A4', 'A5', 'A6'])).ok).toBe(true);
      const off = await session(['ssssss'], { gapRule: 'OFF' });
      expect((await reserveLabels(off, ['A2', 'A3'])).ok).toBe(true);
    });

    it('lets no two concurrent reserves in one row together leave a single seat', async () => {
      // Alone, each leaves three free seats; together they would leave A3 alone.
      const rows = await Promise.all(Array.from({ length: 8 }, () => session(['sssss'])));
      const results = await Promise.all(
        rows.flatMap((row) => [reserveLabels(row, ['A1', 'A2']), reserveLabels(row, ['A4', 'A5'])]),
      );
      for (const [index, row] of rows.entries()) {
        const [left, right] = results.slice(index * 2, index * 2 + 2);
        expect([left.ok, right.ok].filter(Boolean)).toHaveLength(1);
        expect([left, right].find((result) => !result.ok)).toMatchObject({
          code: 'SEAT_GAP',
          seatLabels: ['A3'],
        });
        expect(await isolatedSeats(row.id)).toEqual([]);
      }
    });
  });

  it('leaves sessions made by createSession without the gap rule', async () => {
    const read = await testApp.graphql(SeatMapDocument, {
      id: (await session(['ssss'], { gapRule: 'OFF' })).id,
    });
    expect(read.data?.session?.gapRule).toBe('OFF');
  });
});
