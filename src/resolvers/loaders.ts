import { type EntityManager } from '@mikro-orm/postgresql';
import DataLoader from 'dataloader';
import { type ScheduleRange } from '../booking/auditorium-queries';
import { type Auditorium } from '../entities/auditorium.entity';
import { type Clock, DATABASE_CLOCK } from '../infra/clock';
import { type Refund } from '../entities/refund.entity';
import { type Reservation } from '../entities/reservation.entity';
import { type Sale } from '../entities/sale.entity';
import { type Session } from '../entities/session.entity';
import { type Repositories } from '../repositories';
import { SeatView } from './seat.type';

/**
 * Where the loaders read: for each batch, the repositories bound to a fresh fork of the
 * request's entity manager (`repositoriesOf` in production).
 */
export type RepositoryFactory = (em: EntityManager) => Repositories;

/** Batching loaders for one request: each relation costs one query per nesting level. */
export interface Loaders {
  readonly sessionById: DataLoader<string, Session | null>;
  readonly auditoriumById: DataLoader<string, Auditorium | null>;
  /** An auditorium's sessions starting in one range: one loader per range asked for. */
  sessionsByAuditorium(range: ScheduleRange): DataLoader<string, Session[]>;
  readonly seatsBySession: DataLoader<string, SeatView[]>;
  /** A session's seats and the map version they are at, read in one statement. */
  readonly seatMapBySession: DataLoader<string, { mapVersion: number; seats: SeatView[] }>;
  /** A session's map version alone (when its seats are not asked for). */
  readonly mapVersionBySession: DataLoader<string, number>;
  readonly availableSeatsBySession: DataLoader<string, number>;
  readonly reservationById: DataLoader<string, Reservation | null>;
  readonly seatsByReservation: DataLoader<string, SeatView[]>;
  readonly saleByReservation: DataLoader<string, Sale | null>;
  readonly refundBySale: DataLoader<string, Refund | null>;
}

function byKey<Value>(keys: readonly string[], values: Iterable<[string, Value]>, missing: Value): Value[] {
  const map = new Map(values);
  return keys.map((key) => map.get(key) ?? missing);
}

/** How the loaders of one request or subscription behave. */
export interface LoaderOptions {
  /** DataLoader's per-key memo: on for one request, off for long-lived subscriptions. */
  readonly cache: boolean;
  /** Judges the holds of the seats read (`DATABASE_CLOCK` by default). */
  readonly clock?: Clock;
}

/**
 * Creates the loaders of one request or subscription. Each batch reads through its own fork
 * of `em`, so a long-lived subscription never serves entities cached by an earlier event;
 * `cache: false` (subscriptions) also turns off DataLoader's own per-key memo. Seats come as
 * read models with their status as read, judged by `clock` (the database clock in production).
 */
export function createLoaders(
  em: EntityManager,
  repositories: RepositoryFactory,
  { cache, clock = DATABASE_CLOCK }: LoaderOptions,
): Loaders {
  const loaderOptions = { cache };
  const forked = () => repositories(em.fork());
  const sessionsByRange = new Map<string, DataLoader<string, Session[]>>();
  return {
    auditoriumById: new DataLoader(async (ids) => {
      const rows = await forked().auditoriums.findByIds(ids);
      return byKey<Auditorium | null>(
        ids,
        rows.map((row) => [row.id, row]),
        null,
      );
    }, loaderOptions),
    sessionsByAuditorium(range) {
      const key = `${range.from?.toISOString() ?? ''}/${range.to?.toISOString() ?? ''}/${range.limit}`;
      let loader = sessionsByRange.get(key);
      if (!loader) {
        loader = new DataLoader(async (ids) => {
          const grouped = new Map<string, Session[]>();
          for (const session of await forked().sessions.findByAuditoriums(ids, range)) {
            const auditoriumId = session.auditorium?.id as string;
            grouped.set(auditoriumId, [...(grouped.get(auditoriumId) ?? []), session]);
          }
          return ids.map((id) => grouped.get(id) ?? []);
        }, loaderOptions);
        sessionsByRange.set(key, loader);
      }
      return loader;
    },
    sessionById: new DataLoader(async (ids) => {
      const rows = await forked().sessions.findByIds(ids);
      return byKey<Session | null>(
        ids,
        rows.map((row) => [row.id, row]),
        null,
      );
    }, loaderOptions),
    seatMapBySession: new DataLoader(async (ids) => {
      const maps = await forked().seats.findSeatMaps(ids, clock);
      return ids.map((id) => {
        const map = maps.get(id);
        return {
          mapVersion: map?.mapVersion ?? 0,
          seats: (map?.seats ?? []).map((seat) => SeatView.of(seat)),
        };
      });
    }, loaderOptions),
    mapVersionBySession: new DataLoader(async (ids) => {
      const versions = await forked().seatChanges.currentVersions(ids);
      return ids.map((id) => versions.get(id) ?? 0);
    }, loaderOptions),
    seatsBySession: new DataLoader(async (ids) => {
      const grouped = new Map<string, SeatView[]>();
      for (const seat of await forked().seats.findBySessions(ids, clock)) {
        const list = grouped.get(seat.sessionId) ?? [];
        list.push(SeatView.of(seat));
        grouped.set(seat.sessionId, list);
      }
      return ids.map((id) => grouped.get(id) ?? []);
    }, loaderOptions),
    availableSeatsBySession: new DataLoader(async (ids) => {
      const availability = await forked().seats.availabilityBySessions(ids, clock);
      return ids.map((id) => availability.get(id)?.available ?? 0);
    }, loaderOptions),
    reservationById: new DataLoader(async (ids) => {
      const rows = await forked().reservations.findByIds(ids);
      return byKey<Reservation | null>(
        ids,
        rows.map((row) => [row.id, row]),
        null,
      );
    }, loaderOptions),
    seatsByReservation: new DataLoader(async (ids) => {
      const { reservations, seats } = forked();
      const seatIdsByReservation = await reservations.seatIdsByReservations(ids);
      const allSeatIds = [...new Set([...seatIdsByReservation.values()].flat())];
      const seatById = new Map(
        (await seats.findByIds(allSeatIds, clock)).map((seat) => [seat.id, SeatView.of(seat)]),
      );
      return ids.map((id) =>
        (seatIdsByReservation.get(id) ?? [])
          .map((seatId) => seatById.get(seatId))
          .filter((seat): seat is SeatView => seat !== undefined)
          .sort((left, right) => left.rowIndex - right.rowIndex || left.number - right.number),
      );
    }, loaderOptions),
    saleByReservation: new DataLoader(async (ids) => {
      const rows = await forked().sales.findByReservations(ids);
      return byKey<Sale | null>(
        ids,
        rows.map((row) => [row.reservation.id, row]),
        null,
      );
    }, loaderOptions),
    refundBySale: new DataLoader(async (ids) => {
      const rows = await forked().refunds.findBySales(ids);
      return byKey<Refund | null>(
        ids,
        rows.map((row) => [row.sale.id, row]),
        null,
      );
    }, loaderOptions),
  };
}
