import { type EntityManager } from '@mikro-orm/postgresql';
import { GapRule } from '../../entities/enums';
import { type Reservation } from '../../entities/reservation.entity';
import { badUserInput, DomainError, ErrorCode } from '../../errors/domain-error';
import { type RequestDeadline } from '../../infra/request-deadline';
import { parseId } from '../../infra/uuid';
import { repositoriesOf } from '../../repositories';
import { type SessionFacts } from '../../repositories/session.repository';
import { type BookingDependencies } from '../booking-dependencies';
import { MAX_SEATS_PER_RESERVATION } from '../booking-limits';
import { type Caller } from '../caller';
import { previousReservation, replayReservation } from './idempotent-replay';
import { findSessionFacts, holdSelection, observed } from './reserve';
import { inSpan } from '../../infra/tracing';

/** What `reserveBestAvailable` asks for. */
export interface BestAvailableCommand {
  readonly sessionId: string;
  readonly quantity: number;
  readonly category?: string | null;
  readonly accessible?: boolean | null;
  readonly idempotencyKey?: string | null;
}

/** Blocks read per look at the map: the best few, tried in order. */
const BLOCKS_PER_LOOK = 8;

/**
 * Looks at the map at most this many times: each look after the first follows a round in which
 * concurrent reserves took every block tried. Bounds the work of one request under a stampede.
 */
const MAX_LOOKS = 4;

/**
 * The ideal spot of a session's seat map (DESIGN §4.2): the row two thirds of the depth from
 * the front, centred on the middle column of the longest row.
 */
export function idealSpot(session: Pick<SessionFacts, 'rowCount' | 'layoutWidth'>): { y: number; x: number } {
  return { y: Math.round(((session.rowCount - 1) * 2) / 3), x: (session.layoutWidth - 1) / 2 };
}

/**
 * Holds the best `quantity` adjacent seats of one row (see `SeatRowQueries.findBestBlocks`),
 * all or none, like `reserve` (limits, idempotency, events, Redis then PostgreSQL). Blocks that
 * would break the session's gap rule are skipped. When a concurrent reserve takes the chosen
 * block first, the next best is tried; the map is looked at again when a whole round was taken.
 *
 * @throws DomainError BAD_USER_INPUT (quantity, category, ids, a reused key), NOT_FOUND,
 *   SESSION_CLOSED, LIMIT_EXCEEDED, RATE_LIMITED, TIMEOUT, and SEAT_UNAVAILABLE with `reason`
 *   `NO_ADJACENT_BLOCK` when no block is free, or `CONTENDED` when every block tried was taken by
 *   concurrent reserves, {@link MAX_LOOKS} times over.
 */
export async function reserveBestAvailable(
  deps: BookingDependencies,
  em: EntityManager,
  caller: Caller,
  command: BestAvailableCommand,
  deadline?: RequestDeadline,
): Promise<Reservation> {
  return inSpan('reserve best available', (span) =>
    observed(deps, () => reserveBestOnce(deps, em, caller, command, deadline), span),
  );
}

// `lost` grows by at most BLOCKS_PER_LOOK blocks per look: a short list, bound as one array.
async function reserveBestOnce(
  deps: BookingDependencies,
  em: EntityManager,
  caller: Caller,
  command: BestAvailableCommand,
  deadline: RequestDeadline | undefined,
): Promise<Reservation> {
  const { quantity } = command;
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > MAX_SEATS_PER_RESERVATION) {
    throw badUserInput('quantity', `quantity must be 1 to ${MAX_SEATS_PER_RESERVATION} seats.`);
  }
  const sessionId = parseId('sessionId', command.sessionId);
  const idempotencyKey = command.idempotencyKey ?? null;
  // A replay answers for the same session and as many seats (which ones was the server's choice).
  const replay = (previous: Reservation) =>
    replayReservation(em, previous, sessionId, (previousSeatIds) => previousSeatIds.length === quantity);
  const previous = await previousReservation(em, caller, idempotencyKey);
  if (previous) {
    return replay(previous);
  }
  const session = await findSessionFacts(deps, em, sessionId);
  const category = command.category?.trim() || null;
  if (category !== null && !session.categories.includes(category)) {
    throw new DomainError(
      ErrorCode.BadUserInput,
      `This session has no category '${category.slice(0, 50)}'; its categories are ${session.categories.join(', ')}.`,
      { field: 'category' },
    );
  }
  const ideal = idealSpot(session);
  const { seatRows } = repositoriesOf(em);
  // Seats of blocks lost to concurrent reserves: held (in Redis or PostgreSQL) by someone else
  // now, so later looks count them as taken, as reserve would; the map may not show it yet.
  const lost = new Set<string>();
  for (let look = 0; look < MAX_LOOKS; look += 1) {
    const blocks = await seatRows.findBestBlocks(
      {
        sessionId: session.id,
        quantity,
        category,
        accessible: command.accessible === true,
        noSingleSeat: session.gapRule === GapRule.NO_SINGLE_SEAT,
        idealY: ideal.y,
        idealX: ideal.x,
        takenSeatIds: [...lost],
        limit: BLOCKS_PER_LOOK,
      },
      deps.clock,
    );
    if (blocks.length === 0) {
      throw noBlock('NO_ADJACENT_BLOCK', 'No block of that many free seats side by side is left.');
    }
    for (const block of blocks) {
      try {
        return await holdSelection(
          deps,
          em,
          { caller, session, seatIds: [...block].sort(), idempotencyKey, deadline },
          replay,
        );
      } catch (error) {
        // Taken by a concurrent reserve (or its taking would now leave a seat alone): next block.
        if (!(
          error instanceof DomainError && [ErrorCode.SeatUnavailable, ErrorCode.SeatGap].includes(error.code)
        )) {
          throw error;
        }
        block.forEach((seatId) => lost.add(seatId));
      }
    }
  }
  throw noBlock('CONTENDED', 'Every free block was taken by someone else meanwhile; try again.');
}

function noBlock(reason: 'NO_ADJACENT_BLOCK' | 'CONTENDED', message: string): DomainError {
  return new DomainError(ErrorCode.SeatUnavailable, message, { reason, seatIds: [] });
}
