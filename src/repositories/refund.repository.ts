import { EntityRepository } from '@mikro-orm/postgresql';
import { type Refund } from '../entities/refund.entity';

/** Refund queries, bound to one entity manager (`em.getRepository(Refund)`). */
export class RefundRepository extends EntityRepository<Refund> {
  /** The refunds of the given sales (at most one each); sales without one are missing. */
  async findBySales(saleIds: readonly string[]): Promise<Refund[]> {
    return this.find({ sale: { $in: [...saleIds] } });
  }
}
