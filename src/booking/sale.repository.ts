import { type EntityManager } from '@mikro-orm/postgresql';
import { Sale } from '../entities/sale.entity';

/** Sale queries. */
export class SaleRepository {
  async findByReservations(em: EntityManager, reservationIds: readonly string[]): Promise<Sale[]> {
    return em.find(Sale, { reservation: { $in: [...reservationIds] } });
  }

  /** Up to `first + 1` of the user's sales, newest first (ids are time-ordered UUIDv7). */
  async pageForUser(em: EntityManager, userId: string, first: number, beforeId?: string): Promise<Sale[]> {
    return em.find(Sale, beforeId ? { userId, id: { $lt: beforeId } } : { userId }, {
      orderBy: { id: 'desc' },
      limit: first + 1,
    });
  }
}
