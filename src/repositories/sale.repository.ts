import { EntityRepository } from '@mikro-orm/postgresql';
import { type Sale } from '../entities/sale.entity';

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
}
