import { type EntityManager } from '@mikro-orm/postgresql';
import { type Sale } from '../entities/sale.entity';
import { forbidden } from '../errors/domain-error';
import { type Viewer } from '../infra/auth';
import { decodeCursor, encodeCursor, type Page, pageSize, toPage } from './pagination';
import { type SaleRepository } from './sale.repository';

/** Sales history. */
export class SaleService {
  constructor(private readonly sales: SaleRepository) {}

  /**
   * A user's sales, newest first. `userId` defaults to the viewer; only admins may read
   * another user's history.
   */
  async history(
    em: EntityManager,
    viewer: Viewer,
    query: { userId?: string | null; first: number; after?: string | null },
  ): Promise<Page<Sale>> {
    const userId = query.userId ?? viewer.userId;
    if (userId !== viewer.userId && !viewer.isAdmin) {
      throw forbidden("Only admins can read another user's sales.");
    }
    const first = pageSize(query.first);
    const beforeId = query.after ? decodeCursor(query.after, ['uuid'])[0] : undefined;
    const rows = await this.sales.pageForUser(em, userId, first, beforeId);
    return toPage(rows, first, (sale) => encodeCursor([sale.id]));
  }
}
