import { type EntityManager } from '@mikro-orm/postgresql';
import { Auditorium } from '../entities/auditorium.entity';
import { Refund } from '../entities/refund.entity';
import { Reservation } from '../entities/reservation.entity';
import { Sale } from '../entities/sale.entity';
import { Seat } from '../entities/seat.entity';
import { Session } from '../entities/session.entity';
import { type AuditoriumRepository } from './auditorium.repository';
import { type RefundRepository } from './refund.repository';
import { type ReservationRepository } from './reservation.repository';
import { type SaleRepository } from './sale.repository';
import { OutboxWriter } from './outbox-writer';
import { SeatChangeLog } from './seat-change-log';
import { SeatRowQueries } from './seat-rows';
import { type SeatRepository } from './seat.repository';
import { type SessionRepository } from './session.repository';

/** The booking repositories, all bound to one entity manager (a request's fork, or a transaction). */
export interface Repositories {
  readonly sessions: SessionRepository;
  readonly seats: SeatRepository;
  readonly reservations: ReservationRepository;
  readonly sales: SaleRepository;
  readonly auditoriums: AuditoriumRepository;
  /** Row-wise seat queries (blocks, the gap rule). */
  readonly seatRows: SeatRowQueries;
  /** The seat-map change log and map versions. */
  readonly seatChanges: SeatChangeLog;
  readonly refunds: RefundRepository;
  /** The transactional outbox's rows (events other than seat changes; those go with the log). */
  readonly outbox: OutboxWriter;
}

/**
 * The repositories bound to `em`. Each entity declares its repository
 * (`@Entity({ repository })`), so `em.getRepository` returns it typed; MikroORM keeps one
 * instance per entity manager, so calling this again on the same `em` is cheap (the row
 * queries are a plain object over `em`).
 */
export function repositoriesOf(em: EntityManager): Repositories {
  return {
    sessions: em.getRepository(Session),
    seats: em.getRepository(Seat),
    reservations: em.getRepository(Reservation),
    sales: em.getRepository(Sale),
    auditoriums: em.getRepository(Auditorium),
    seatRows: new SeatRowQueries(em),
    seatChanges: new SeatChangeLog(em),
    refunds: em.getRepository(Refund),
    outbox: new OutboxWriter(em),
  };
}
