import { type EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { type ReservationRepository } from '../booking/reservation.repository';
import { type SaleRepository } from '../booking/sale.repository';
import { type SeatFields, type SeatRepository } from '../booking/seat.repository';
import { type SessionRepository } from '../booking/session.repository';
import { type Reservation } from '../entities/reservation.entity';
import { type Sale } from '../entities/sale.entity';
import { type Session } from '../entities/session.entity';
import { type ReadHorizon } from '../caching/read-horizon';
import { SeatStatus } from '../entities/enums';
import { SeatView } from './seat.type';

/** The repositories the loaders read through. */
export interface LoaderRepositories {
  readonly sessions: SessionRepository;
  readonly seats: SeatRepository;
  readonly reservations: ReservationRepository;
  readonly sales: SaleRepository;
}

/** Batching loaders for one request: each relation costs one query per nesting level. */
export interface Loaders {
  readonly sessionById: DataLoader<string, Session | null>;
  readonly seatsBySession: DataLoader<string, SeatView[]>;
  readonly availableSeatsBySession: DataLoader<string, number>;
  readonly reservationById: DataLoader<string, Reservation | null>;
  readonly seatsByReservation: DataLoader<string, SeatView[]>;
  readonly saleByReservation: DataLoader<string, Sale | null>;
}

/** The seats as readers see them now; held ones tell `horizon` when their hold ends. */
function seatViews(rows: readonly SeatFields[], horizon: ReadHorizon): SeatView[] {
  const now = Date.now();
  return rows.map((seat) => {
    const view = SeatView.of(seat, now);
    if (view.status === SeatStatus.RESERVED && seat.holdExpiresAt) {
      horizon.changesAt(seat.holdExpiresAt.getTime());
    }
    return view;
  });
}

function byKey<Value>(keys: readonly string[], values: Iterable<[string, Value]>, missing: Value): Value[] {
  const map = new Map(values);
  return keys.map((key) => map.get(key) ?? missing);
}

/** How the loaders of one request or subscription behave. */
export interface LoaderOptions {
  /** DataLoader's per-key memo: on for one request, off for long-lived subscriptions. */
  readonly cache: boolean;
  /** Told when what the loaders read changes by the clock alone (a hold ends). */
  readonly horizon: ReadHorizon;
}

/**
 * Creates the loaders of one request or subscription. Each batch reads through its own fork
 * of `em`, so a long-lived subscription never serves entities cached by an earlier event;
 * `cache: false` (subscriptions) also turns off DataLoader's own per-key memo.
 */
export function createLoaders(
  em: EntityManager,
  repositories: LoaderRepositories,
  { cache, horizon }: LoaderOptions,
): Loaders {
  const { sessions, seats, reservations, sales } = repositories;
  const loaderOptions = { cache };
  return {
    sessionById: new DataLoader(async (ids) => {
      const rows = await sessions.findByIds(em.fork(), ids);
      return byKey<Session | null>(
        ids,
        rows.map((row) => [row.id, row]),
        null,
      );
    }, loaderOptions),
    seatsBySession: new DataLoader(async (ids) => {
      const views = seatViews(await seats.findBySessions(em.fork(), ids), horizon);
      const grouped = new Map<string, SeatView[]>();
      for (const view of views) {
        const list = grouped.get(view.sessionId) ?? [];
        list.push(view);
        grouped.set(view.sessionId, list);
      }
      return ids.map((id) => grouped.get(id) ?? []);
    }, loaderOptions),
    availableSeatsBySession: new DataLoader(async (ids) => {
      const availability = await seats.availabilityBySessions(em.fork(), ids);
      return ids.map((id) => {
        const session = availability.get(id);
        if (session?.nextHoldEnd) {
          horizon.changesAt(session.nextHoldEnd.getTime());
        }
        return session?.available ?? 0;
      });
    }, loaderOptions),
    reservationById: new DataLoader(async (ids) => {
      const rows = await reservations.findByIds(em.fork(), ids);
      return byKey<Reservation | null>(
        ids,
        rows.map((row) => [row.id, row]),
        null,
      );
    }, loaderOptions),
    seatsByReservation: new DataLoader(async (ids) => {
      const fork = em.fork();
      const seatIdsByReservation = await reservations.seatIdsByReservations(fork, ids);
      const allSeatIds = [...new Set([...seatIdsByReservation.values()].flat())];
      const seatById = new Map(
        seatViews(await seats.findByIds(fork, allSeatIds), horizon).map((view) => [view.id, view]),
      );
      return ids.map((id) =>
        (seatIdsByReservation.get(id) ?? [])
          .map((seatId) => seatById.get(seatId))
          .filter((seat): seat is SeatView => seat !== undefined)
          .sort((left, right) => left.rowIndex - right.rowIndex || left.number - right.number),
      );
    }, loaderOptions),
    saleByReservation: new DataLoader(async (ids) => {
      const rows = await sales.findByReservations(em.fork(), ids);
      return byKey<Sale | null>(
        ids,
        rows.map((row) => [row.reservation.id, row]),
        null,
      );
    }, loaderOptions),
  };
}
