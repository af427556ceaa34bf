import { type EntityManager } from '@mikro-orm/postgresql';
import { type Sale } from '../entities/sale.entity';
import { forbidden } from '../errors/domain-error';
import { repositoriesOf } from '../repositories';
import { type Caller } from './caller';
import { decodeCursor, encodeCursor, type Page, pageSize, toPage } from './pagination';

/**
 * A user's sales, newest first. `userId` defaults to the caller; only admins may read another
 * user's history.
 *
 * @throws DomainError FORBIDDEN, BAD_USER_INPUT (`first`, `after`).
 */
export async function salesHistory(
  em: EntityManager,
  caller: Caller,
  query: { userId?: string | null; first: number; after?: string | null },
): Promise<Page<Sale>> {
  const userId = query.userId ?? caller.userId;
  if (userId !== caller.userId && !caller.isAdmin) {
    throw forbidden("Only admins can read another user's sales.");
  }
  const first = pageSize(query.first);
  const beforeId = query.after ? decodeCursor(query.after, ['uuid'])[0] : undefined;
  const rows = await repositoriesOf(em).sales.pageForUser(userId, first, beforeId);
  return toPage(rows, first, (sale) => encodeCursor([sale.id]));
}
