import fc from 'fast-check';
import { ExtendReservationDocument as EXTEND_RESERVATION } from '../../client/generated/graphql';
import {
  CANCEL_RESERVATION,
  CONFIRM_PAYMENT,
  createSession,
  RESERVE,
  RESERVE_BEST_AVAILABLE,
} from '../support/factories';
import { dropSeatLocks, passTime } from '../support/pass-time';
import { type GraphQLResponse, startTestApp, type TestApp, uniqueUser } from '../support/test-app';

/**
 * Model-based test: random histories of reserve, best available, confirm, cancel, extend, time
 * passing and Redis flushes by several users on a small session, checked against a simple model after every
 * step, plus random interleavings of concurrent commands checked against the invariants.
 *
 * Time in the model moves only when a command says so (the database's timestamps are moved
 * back); the real seconds a history takes are ignored, which is safe while they stay under the
 * model's smallest remaining hold (10 s: holds end 30 s after their last extension, time passes
 * by 20 s, or by HOLD_SECONDS + 1 s, which ends every hold).
 */

const USERS = 3;
const SEATS = 6;
const HOLD_SECONDS = 30;
const HOLD_MAX_SECONDS = 40;
const SOME_SECONDS = 20;

type Status = 'PENDING' | 'CONFIRMED' | 'EXPIRED' | 'CANCELLED';

interface ModelReservation {
  id: string;
  user: number;
  seats: number[];
  status: Status;
  saleId?: string;
  /** Model seconds. */
  createdAt: number;
  expiresAt: number;
}

interface Model {
  reservations: ModelReservation[];
  /** Model seconds passed. */
  now: number;
}

interface Real {
  testApp: TestApp;
  sessionId: string;
  seatIds: string[];
  tokens: string[];
}

function seatState(model: Model, seat: number): 'AVAILABLE' | 'RESERVED' | 'SOLD' {
  const holder = model.reservations.find(
    (reservation) =>
      reservation.seats.includes(seat) && ['PENDING', 'CONFIRMED'].includes(reservation.status),
  );
  return holder ? (holder.status === 'CONFIRMED' ? 'SOLD' : 'RESERVED') : 'AVAILABLE';
}

function errorCode(response: GraphQLResponse): string {
  return response.errors?.[0]?.extensions.code ?? 'OK';
}

/** The database and the API agree with each other, with the model, and with the invariants. */
async function checkInvariants(real: Real, model?: Model): Promise<void> {
  const em = real.testApp.app.orm.em.fork();
  const doubles = await em.execute(
    `select rs.seat_id from reservation_seat rs join reservation r on r.id = rs.reservation_id
      where r.session_id = ? and r.status in ('PENDING', 'CONFIRMED') group by rs.seat_id having count(*) > 1`,
    [real.sessionId],
  );
  expect(doubles).toEqual([]);
  const soldWithoutOneSale = await em.execute(
    `select s.id from seat s
      where s.session_id = ? and s.status = 'SOLD'
        and (select count(*) from sale sa join reservation_seat rs on rs.reservation_id = sa.reservation_id
              where rs.seat_id = s.id) <> 1`,
    [real.sessionId],
  );
  expect(soldWithoutOneSale).toEqual([]);
  const lateConfirmations = await em.execute(
    `select r.id from reservation r join sale sa on sa.reservation_id = r.id
      where r.session_id = ? and (r.status <> 'CONFIRMED' or sa.created_at > r.expires_at)`,
    [real.sessionId],
  );
  expect(lateConfirmations).toEqual([]);
  // A running hold's seats are held until its end, extensions included (to the millisecond: a
  // new reservation's end is its seats' read back into JavaScript).
  const holdsOutOfStep = await em.execute(
    `select s.id from reservation r
       join reservation_seat rs on rs.reservation_id = r.id and rs.live
       join seat s on s.id = rs.seat_id
      where r.session_id = ? and r.status = 'PENDING' and s.status = 'RESERVED'
        and date_trunc('milliseconds', s.hold_expires_at) <> r.expires_at`,
    [real.sessionId],
  );
  expect(holdsOutOfStep).toEqual([]);

  const read = await real.testApp.graphql<{
    session: { availableSeats: number; seats: { status: string }[] };
  }>(`query ($id: ID!) { session(id: $id) { availableSeats seats { status } } }`, { id: real.sessionId });
  const seats = read.data!.session.seats.map((seat) => seat.status);
  expect(read.data!.session.availableSeats).toBe(seats.filter((status) => status === 'AVAILABLE').length);
  if (model) {
    expect(seats).toEqual(Array.from({ length: SEATS }, (_, seat) => seatState(model, seat)));
  }
}

class ReserveCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly user: number,
    readonly seats: number[],
  ) {}

  check = () => true;

  async run(model: Model, real: Real): Promise<void> {
    const response = await real.testApp.graphql<{ reserve: { id: string } }>(
      RESERVE,
      { input: { sessionId: real.sessionId, seatIds: this.seats.map((seat) => real.seatIds[seat]) } },
      real.tokens[this.user],
    );
    const taken = this.seats.some((seat) => seatState(model, seat) !== 'AVAILABLE');
    const overLimit =
      model.reservations.filter(
        (reservation) => reservation.user === this.user && reservation.status === 'PENDING',
      ).length >= 5;
    const expected = [...(taken ? ['SEAT_UNAVAILABLE'] : []), ...(overLimit ? ['LIMIT_EXCEEDED'] : [])];
    // With both reasons, either may come first (Redis refuses seats before the limit is read).
    expect(expected.length ? expected : ['OK']).toContain(errorCode(response));
    if (!taken && !overLimit) {
      model.reservations.push({
        id: response.data!.reserve.id,
        user: this.user,
        seats: this.seats,
        status: 'PENDING',
        createdAt: model.now,
        expiresAt: model.now + HOLD_SECONDS,
      });
    }
    await checkInvariants(real, model);
  }

  toString = () => `reserve(user ${this.user}, seats ${this.seats.join(',')})`;
}

/**
 * The model's best block (DESIGN §4.2) on the one-row room: `quantity` free seats side by side
 * nearest the middle (x = (SEATS - 1) / 2), ties to the left; null when there is none.
 */
function bestBlock(model: Model, quantity: number): number[] | null {
  let best: { seats: number[]; distance: number } | null = null;
  for (let first = 0; first + quantity <= SEATS; first += 1) {
    const seats = Array.from({ length: quantity }, (_, offset) => first + offset);
    if (seats.every((seat) => seatState(model, seat) === 'AVAILABLE')) {
      const distance = Math.abs(first + (quantity - 1) / 2 - (SEATS - 1) / 2);
      if (!best || distance < best.distance) {
        best = { seats, distance };
      }
    }
  }
  return best?.seats ?? null;
}

class BestAvailableCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly user: number,
    readonly quantity: number,
  ) {}

  check = () => true;

  async run(model: Model, real: Real): Promise<void> {
    const response = await real.testApp.graphql<{
      reserveBestAvailable: { id: string; seats: { id: string }[] };
    }>(
      RESERVE_BEST_AVAILABLE,
      { input: { sessionId: real.sessionId, quantity: this.quantity } },
      real.tokens[this.user],
    );
    const block = bestBlock(model, this.quantity);
    const overLimit =
      model.reservations.filter(
        (reservation) => reservation.user === this.user && reservation.status === 'PENDING',
      ).length >= 5;
    // The block is chosen before the hold counts the user's holds.
    expect(errorCode(response)).toBe(
      block === null ? 'SEAT_UNAVAILABLE' : overLimit ? 'LIMIT_EXCEEDED' : 'OK',
    );
    if (block !== null && !overLimit) {
      const seats = response.data!.reserveBestAvailable.seats.map((seat) => real.seatIds.indexOf(seat.id));
      expect(seats).toEqual(block);
      model.reservations.push({
        id: response.data!.reserveBestAvailable.id,
        user: this.user,
        seats: block,
        status: 'PENDING',
        createdAt: model.now,
        expiresAt: model.now + HOLD_SECONDS,
      });
    }
    await checkInvariants(real, model);
  }

  toString = () => `best available(user ${this.user}, ${this.quantity} seats)`;
}

abstract class ReservationCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly user: number,
    readonly pick: number,
  ) {}

  check = (model: Readonly<Model>) =>
    model.reservations.some((reservation) => reservation.user === this.user);

  protected target(model: Model): ModelReservation {
    const mine = model.reservations.filter((reservation) => reservation.user === this.user);
    return mine[this.pick % mine.length];
  }

  abstract run(model: Model, real: Real): Promise<void>;
}

class ConfirmCommand extends ReservationCommand {
  override async run(model: Model, real: Real): Promise<void> {
    const reservation = this.target(model);
    const response = await real.testApp.graphql<{ confirmPayment: { id: string } }>(
      CONFIRM_PAYMENT,
      { reservationId: reservation.id },
      real.tokens[this.user],
    );
    const expected: Record<Status, string> = {
      PENDING: 'OK',
      CONFIRMED: 'OK',
      EXPIRED: 'RESERVATION_EXPIRED',
      CANCELLED: 'INVALID_STATE',
    };
    expect(errorCode(response)).toBe(expected[reservation.status]);
    if (reservation.status === 'CONFIRMED') {
      expect(response.data!.confirmPayment.id).toBe(reservation.saleId);
    }
    if (reservation.status === 'PENDING') {
      reservation.status = 'CONFIRMED';
      reservation.saleId = response.data!.confirmPayment.id;
    }
    await checkInvariants(real, model);
  }

  override toString = () => `confirm(user ${this.user}, pick ${this.pick})`;
}

class CancelCommand extends ReservationCommand {
  override async run(model: Model, real: Real): Promise<void> {
    const reservation = this.target(model);
    const response = await real.testApp.graphql(
      CANCEL_RESERVATION,
      { reservationId: reservation.id },
      real.tokens[this.user],
    );
    const expected: Record<Status, string> = {
      PENDING: 'OK',
      CANCELLED: 'OK',
      CONFIRMED: 'INVALID_STATE',
      EXPIRED: 'RESERVATION_EXPIRED',
    };
    expect(errorCode(response)).toBe(expected[reservation.status]);
    if (reservation.status === 'PENDING') {
      reservation.status = 'CANCELLED';
    }
    await checkInvariants(real, model);
  }

  override toString = () => `cancel(user ${this.user}, pick ${this.pick})`;
}

class ExtendCommand extends ReservationCommand {
  override async run(model: Model, real: Real): Promise<void> {
    const reservation = this.target(model);
    const response = await real.testApp.graphql(
      EXTEND_RESERVATION,
      { reservationId: reservation.id },
      real.tokens[this.user],
    );
    const cap = reservation.createdAt + HOLD_MAX_SECONDS;
    // Below the cap the end always moves (real time has passed since it was set, if no model
    // time has); at the cap it moves only if it is not there yet.
    const capped = model.now + HOLD_SECONDS >= cap;
    const expected: Record<Status, string> = {
      PENDING: capped && cap <= reservation.expiresAt ? 'LIMIT_EXCEEDED' : 'OK',
      CONFIRMED: 'INVALID_STATE',
      CANCELLED: 'INVALID_STATE',
      EXPIRED: 'RESERVATION_EXPIRED',
    };
    expect(errorCode(response)).toBe(expected[reservation.status]);
    if (errorCode(response) === 'OK') {
      reservation.expiresAt = capped ? cap : model.now + HOLD_SECONDS;
    }
    await checkInvariants(real, model);
  }

  override toString = () => `extend(user ${this.user}, pick ${this.pick})`;
}

/**
 * Time passes (the database clock, and the Redis TTLs: every lock is dropped); holds whose end
 * it reaches are over. HOLD_SECONDS + 1 ends every hold.
 */
class TimePassesCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly seconds: number) {}

  check = () => true;

  async run(model: Model, real: Real): Promise<void> {
    await passTime(real.testApp, real, this.seconds);
    model.now += this.seconds;
    for (const reservation of model.reservations) {
      if (reservation.status === 'PENDING' && reservation.expiresAt <= model.now) {
        reservation.status = 'EXPIRED';
      }
    }
    await checkInvariants(real, model);
  }

  toString = () => `${this.seconds} s pass`;
}

class FlushRedisCommand implements fc.AsyncCommand<Model, Real> {
  check = () => true;

  async run(model: Model, real: Real): Promise<void> {
    await dropSeatLocks(real.testApp, real);
    await checkInvariants(real, model);
  }

  toString = () => 'flush redis';
}

const seatSelection = fc.uniqueArray(fc.integer({ min: 0, max: SEATS - 1 }), { minLength: 1, maxLength: 3 });
const user = fc.integer({ min: 0, max: USERS - 1 });

const commands = [
  fc.tuple(user, seatSelection).map(([who, seats]) => new ReserveCommand(who, seats)),
  fc
    .tuple(user, fc.integer({ min: 1, max: 3 }))
    .map(([who, quantity]) => new BestAvailableCommand(who, quantity)),
  fc.tuple(user, fc.nat()).map(([who, pick]) => new ConfirmCommand(who, pick)),
  fc.tuple(user, fc.nat()).map(([who, pick]) => new CancelCommand(who, pick)),
  // Twice as likely as the others: reaching the cap takes a few extensions with time between.
  ...[1, 2].map(() => fc.tuple(user, fc.nat()).map(([who, pick]) => new ExtendCommand(who, pick))),
  fc.constant(new TimePassesCommand(HOLD_SECONDS + 1)),
  ...[1, 2].map(() => fc.constant(new TimePassesCommand(SOME_SECONDS))),
  fc.constant(new FlushRedisCommand()),
];

describe('booking model', () => {
  let testApp: TestApp;

  beforeAll(async () => {
    testApp = await startTestApp({
      HOLD_SECONDS: String(HOLD_SECONDS),
      HOLD_MAX_SECONDS: String(HOLD_MAX_SECONDS),
    });
  });

  afterAll(async () => {
    await testApp.stop();
  });

  async function freshWorld(): Promise<Real> {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: SEATS });
    const tokens = await Promise.all(Array.from({ length: USERS }, () => testApp.token(uniqueUser('model'))));
    return { testApp, sessionId: session.id, seatIds: session.seats.map((seat) => seat.id), tokens };
  }

  it('agrees with the model after every step of random histories', async () => {
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 30, size: 'max' }), async (history) => {
        const real = await freshWorld();
        await fc.asyncModelRun(() => ({ model: { reservations: [], now: 0 }, real }), history);
      }),
      { numRuns: 25 },
    );
  });

  it('agrees with the model on a history that extends a hold up to its cap', async () => {
    // Random histories rarely get there: extensions of one hold with time passing between them.
    const real = await freshWorld();
    const model: Model = { reservations: [], now: 0 };
    await fc.asyncModelRun(
      () => ({ model, real }),
      [
        new ReserveCommand(0, [0, 1]),
        new ExtendCommand(0, 0),
        new TimePassesCommand(SOME_SECONDS),
        new ExtendCommand(0, 0),
        new ExtendCommand(0, 0),
        new TimePassesCommand(SOME_SECONDS),
        new ExtendCommand(0, 0),
        new ReserveCommand(1, [1]),
      ],
    );
    // Extended to 30, then to the cap (40, from 50): LIMIT_EXCEEDED, then over at 40.
    expect(model.reservations.map(({ status, expiresAt }) => [status, expiresAt])).toEqual([
      ['EXPIRED', HOLD_MAX_SECONDS],
      ['PENDING', 2 * SOME_SECONDS + HOLD_SECONDS],
    ]);
  });

  it('keeps the invariants under random interleavings of concurrent commands', async () => {
    const concurrentCommand = fc.oneof(
      fc.tuple(user, seatSelection).map(([who, seats]) => ({ kind: 'reserve' as const, who, seats })),
      fc
        .tuple(user, fc.integer({ min: 1, max: 3 }))
        .map(([who, quantity]) => ({ kind: 'best' as const, who, quantity })),
      fc.tuple(user, fc.nat()).map(([who, pick]) => ({ kind: 'confirm' as const, who, pick })),
      fc.tuple(user, fc.nat()).map(([who, pick]) => ({ kind: 'cancel' as const, who, pick })),
      fc.tuple(user, fc.nat()).map(([who, pick]) => ({ kind: 'extend' as const, who, pick })),
      fc.constant({ kind: 'time' as const }),
      fc.constant({ kind: 'flush' as const }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.scheduler(),
        fc.array(concurrentCommand, { minLength: 2, maxLength: 12 }),
        async (scheduler, batch) => {
          const real = await freshWorld();
          // Some reservations to confirm and cancel, made up front.
          const made: { id: string; who: number }[] = [];
          for (const [index, seat] of [0, 2, 4].entries()) {
            const who = index % USERS;
            const response = await testApp.graphql<{ reserve: { id: string } }>(
              RESERVE,
              { input: { sessionId: real.sessionId, seatIds: [real.seatIds[seat]] } },
              real.tokens[who],
            );
            made.push({ id: response.data!.reserve.id, who });
          }
          const runs = batch.map((command) =>
            scheduler.schedule(Promise.resolve(command)).then(async () => {
              let response: GraphQLResponse | undefined;
              if (command.kind === 'reserve') {
                response = await testApp.graphql(
                  RESERVE,
                  {
                    input: {
                      sessionId: real.sessionId,
                      seatIds: command.seats.map((seat) => real.seatIds[seat]),
                    },
                  },
                  real.tokens[command.who],
                );
              } else if (command.kind === 'best') {
                response = await testApp.graphql(
                  RESERVE_BEST_AVAILABLE,
                  { input: { sessionId: real.sessionId, quantity: command.quantity } },
                  real.tokens[command.who],
                );
              } else if (command.kind === 'confirm' || command.kind === 'cancel') {
                const target = made[command.pick % made.length];
                response = await testApp.graphql(
                  command.kind === 'confirm' ? CONFIRM_PAYMENT : CANCEL_RESERVATION,
                  { reservationId: target.id },
                  real.tokens[target.who],
                );
              } else if (command.kind === 'extend') {
                const target = made[command.pick % made.length];
                response = await testApp.graphql(
                  EXTEND_RESERVATION,
                  { reservationId: target.id },
                  real.tokens[target.who],
                );
              } else if (command.kind === 'time') {
                // HOLD_SECONDS + 1 ends every hold.
                await passTime(real.testApp, real, HOLD_SECONDS + 1);
              } else {
                await dropSeatLocks(real.testApp, real);
              }
              if (response) {
                expect([
                  'OK',
                  'SEAT_UNAVAILABLE',
                  'LIMIT_EXCEEDED',
                  'RESERVATION_EXPIRED',
                  'INVALID_STATE',
                ]).toContain(errorCode(response));
              }
            }),
          );
          await scheduler.waitAll();
          await Promise.all(runs);
          await checkInvariants(real);
        },
      ),
      { numRuns: 15 },
    );
  });
});
