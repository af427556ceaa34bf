import { type ConsumeMessage } from 'amqplib';
import {
  HARNESS_HOLD_SECONDS,
  insertSession,
  someUser,
  useBookingHarness,
} from '../../test/support/booking-harness';
import { type BookingEvent } from '../booking/booking-events';
import { expireOverdue } from '../booking/expire-overdue';
import { extendReservation } from '../booking/extend-reservation';
import { reserve } from '../booking/reserve/reserve';
import { ReservationStatus, SeatStatus } from '../entities/enums';
import { encodeEvent } from '../events/event-message';
import { createLogger } from '../infra/logger';
import { uuidv7 } from '../infra/uuid';
import { repositoriesOf } from '../repositories';
import { ExpirySweeper } from './expiry-sweeper';
import { createExpiryHandler, HoldNotOverError } from './expiry.worker';

const SECOND = 1_000;

/** The message the relay would publish for an outbox event. */
function messageOf(event: BookingEvent): ConsumeMessage {
  const { content, options } = encodeEvent(uuidv7(), event);
  return {
    content,
    fields: { routingKey: event.topic },
    properties: { messageId: options.messageId, type: options.type, headers: {} },
  } as unknown as ConsumeMessage;
}

/**
 * An extended hold ends at its new end, whichever expires it: the expiry consumer (given the
 * messages the delay queue would hand it, at the moments it would) or the sweeper alone.
 */
describe('expiry of an extended hold (expiry consumer and sweeper on PostgreSQL, manual clock)', () => {
  const booking = useBookingHarness();

  /** A hold made at T (ending T+60 s), extended at T+30 s to end at T+90 s. */
  async function extendedHold() {
    const { deps, clock, events } = booking.harness;
    const session = await insertSession(booking.orm);
    const user = someUser();
    const seatIds = session.seatIds.slice(0, 2);
    const reservation = await reserve(deps, booking.harness.em(), user, { sessionId: session.id, seatIds });
    const created = events.find((event) => event.topic === 'reservation.created')!;
    clock.advance(30 * SECOND);
    await extendReservation(deps, booking.harness.em(), user, reservation.id);
    const extended = events.find((event) => event.topic === 'reservation.extended')!;
    return { reservationId: reservation.id, seatIds, created, extended };
  }

  async function state(reservationId: string, seatIds: readonly string[]) {
    const { reservations, seats } = repositoriesOf(booking.harness.em());
    const reservation = await reservations.findById(reservationId);
    const seatRows = await seats.findByIds(seatIds, booking.harness.clock);
    return { status: reservation?.status, seats: seatRows.map((seat) => seat.status) };
  }

  const expireWithHarness =
    () => (em: Parameters<typeof expireOverdue>[1], criteria: Parameters<typeof expireOverdue>[2]) =>
      expireOverdue(booking.harness.deps, em, criteria);

  it('ignores the old message at the old end, and expires at the new end with the new message', async () => {
    const { reservationId, seatIds, created, extended } = await extendedHold();
    const { clock, events } = booking.harness;
    const longEarly: number[] = [];
    const handle = createExpiryHandler(booking.orm, expireWithHarness(), {
      clock,
      onLongEarly: (remaining) => longEarly.push(remaining),
    });

    // The reserve's message comes out of the delay queue at the old end: nothing happens.
    clock.advance(30 * SECOND);
    const eventsBefore = events.length;
    await handle(messageOf(created));
    expect(await state(reservationId, seatIds)).toEqual({
      status: ReservationStatus.PENDING,
      seats: [SeatStatus.RESERVED, SeatStatus.RESERVED],
    });
    expect(events.length).toBe(eventsBefore);
    // It says when the hold now ends (plus a margin), for a sweep then.
    expect(longEarly).toEqual([30 * SECOND + 5]);

    // The extension's message, at the new end, expires it (once: a redelivery does nothing).
    clock.advance(30 * SECOND);
    await handle(messageOf(extended));
    expect(await state(reservationId, seatIds)).toEqual({
      status: ReservationStatus.EXPIRED,
      seats: [SeatStatus.AVAILABLE, SeatStatus.AVAILABLE],
    });
    expect(events.slice(eventsBefore).map((event) => event.topic)).toEqual([
      'reservation.expired',
      'seat.status-changed',
    ]);
    await handle(messageOf(extended));
    await handle(messageOf(created));
    expect(events.length).toBe(eventsBefore + 2);
  });

  it('has the sweeper alone leave the hold at the old end and expire it at the new end', async () => {
    const { reservationId, seatIds } = await extendedHold();
    const { clock } = booking.harness;
    const sweeper = new ExpirySweeper(booking.orm, expireWithHarness(), createLogger('silent'));

    clock.advance(30 * SECOND);
    await sweeper.sweep();
    expect((await state(reservationId, seatIds)).status).toBe(ReservationStatus.PENDING);
    clock.advance(30 * SECOND - 1);
    await sweeper.sweep();
    expect((await state(reservationId, seatIds)).status).toBe(ReservationStatus.PENDING);
    clock.advance(1);
    await sweeper.sweep();
    expect(await state(reservationId, seatIds)).toEqual({
      status: ReservationStatus.EXPIRED,
      seats: [SeatStatus.AVAILABLE, SeatStatus.AVAILABLE],
    });
  });
});

/**
 * A message that comes a little before its hold's end (a delay queue of a shorter, older
 * HOLD_SECONDS): the consumer waits out exactly what the database says is left, then expires
 * the hold. Its waits go through a stub that says how long it was asked to wait.
 */
describe('expiry consumer given a message early (PostgreSQL, manual clock)', () => {
  const booking = useBookingHarness();
  const EARLY_MILLISECONDS = 2 * SECOND;

  /** A hold whose `reservation.created` message comes out 2 s before the hold ends. */
  async function earlyMessage() {
    const { deps, clock, events } = booking.harness;
    const session = await insertSession(booking.orm);
    const reservation = await reserve(deps, booking.harness.em(), someUser(), {
      sessionId: session.id,
      seatIds: session.seatIds.slice(0, 1),
    });
    const created = events.find((event) => event.topic === 'reservation.created')!;
    clock.advance(HARNESS_HOLD_SECONDS * SECOND - EARLY_MILLISECONDS);
    return { reservationId: reservation.id, message: messageOf(created) };
  }

  const expireWithHarness = (
    em: Parameters<typeof expireOverdue>[1],
    criteria: Parameters<typeof expireOverdue>[2],
  ) => expireOverdue(booking.harness.deps, em, criteria);

  const statusOf = async (reservationId: string) =>
    (await repositoriesOf(booking.harness.em()).reservations.findById(reservationId))?.status;

  it('waits exactly the remainder the database reports (plus 5 ms), then expires the hold', async () => {
    const { reservationId, message } = await earlyMessage();
    const { clock } = booking.harness;
    const remaining = await repositoriesOf(booking.harness.em()).reservations.remainingHoldMilliseconds(
      reservationId,
      clock,
    );
    expect(remaining).toBe(EARLY_MILLISECONDS);
    const waits: number[] = [];
    const handle = createExpiryHandler(booking.orm, expireWithHarness, {
      clock,
      // Time passes as long as the handler asked for, and not a millisecond more.
      wait: async (milliseconds) => {
        waits.push(milliseconds);
        clock.advance(milliseconds);
      },
    });

    await handle(message);
    expect(waits).toEqual([EARLY_MILLISECONDS + 5]);
    expect(await statusOf(reservationId)).toBe(ReservationStatus.EXPIRED);
  });

  it('gives up with HoldNotOverError when the hold is still not over after waiting, changing nothing', async () => {
    const { reservationId, message } = await earlyMessage();
    const { clock } = booking.harness;
    const waits: number[] = [];
    const handle = createExpiryHandler(booking.orm, expireWithHarness, {
      clock,
      // A wait after which the database's clock has not moved (as after a race): still early.
      wait: async (milliseconds) => {
        waits.push(milliseconds);
      },
    });

    await expect(handle(message)).rejects.toBeInstanceOf(HoldNotOverError);
    // Three attempts, so two waits, each of the remainder the database reported again.
    expect(waits).toEqual([EARLY_MILLISECONDS + 5, EARLY_MILLISECONDS + 5]);
    expect(await statusOf(reservationId)).toBe(ReservationStatus.PENDING);
  });
});
