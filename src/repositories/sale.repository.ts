import { EntityRepository } from '@mikro-orm/postgresql';
import { Sale } from '../entities/sale.entity';
import { CLOCK_NOW_SQL, type Clock, DATABASE_CLOCK } from '../infra/clock';
import { asDate } from '../infra/sql';

/** A sale locked for the rest of the transaction, with its session's start judged by the clock. */
export interface LockedSale {
  readonly sale: Sale;
  /**
   * Time left before its session starts, by the clock of the locking statement (0 or less:
   * the session has started). Fractions of a millisecond are kept.
   */
  readonly millisecondsBeforeStart: number;
  readonly databaseNow: Date;
}

/** Sale queries, bound to one entity manager (`em.getRepository(Sale)`). */
export class SaleRepository extends EntityRepository<Sale> {
  async findByReservations(reservationIds: readonly string[]): Promise<Sale[]> {
    return this.find({ reservation: { $in: [...reservationIds] } });
  }

  /** Up to `first + 1` of the user's sales, newest first (ids are time-ordered UUIDv7). */
  async pageForUser(userId: string, first: number, beforeId?: string): Promise<Sale[]> {
    return this.find(beforeId ? { userId, id: { $lt: beforeId } } : { userId }, {
      orderBy: { id: 'desc' },
      limit: first + 1,
    });
  }

  /**
   * Reads and row-locks one sale (`FOR UPDATE`: concurrent refunds of it take turns, and the
   * later one reads the sale as the earlier one committed it), with the time left before its
   * session starts by `clock`, in one statement. Null when the sale does not exist.
   */
  async lockForRefund(saleId: string, clock: Clock = DATABASE_CLOCK): Promise<LockedSale | null> {
    const em = this.getEntityManager();
    const rows: (Record<string, unknown> & {
      milliseconds_before_start: number;
      database_now: Date | string;
    })[] = await em.execute(
      `with clock as materialized (select ${CLOCK_NOW_SQL} as now)
       select sale.*,
              (extract(epoch from (session.starts_at - clock.now)) * 1000)::float8 as milliseconds_before_start,
              clock.now as database_now
         from sale join session on session.id = sale.session_id, clock
        where sale.id = ? for update of sale`,
      [clock.fixedNow, saleId],
    );
    if (rows.length === 0) {
      return null;
    }
    const {
      milliseconds_before_start: millisecondsBeforeStart,
      database_now: databaseNow,
      ...columns
    } = rows[0];
    return { sale: em.map(Sale, columns), millisecondsBeforeStart, databaseNow: asDate(databaseNow) };
  }
}
