import { type EntityManager } from '@mikro-orm/postgresql';
import { Auditorium } from '../entities/auditorium.entity';
import { parseId } from '../infra/uuid';

/**
 * One auditorium by id, or null when none has it.
 *
 * @throws DomainError BAD_USER_INPUT for a malformed id.
 */
export async function findAuditorium(
  em: EntityManager,
  auditoriumId: string,
  field = 'id',
): Promise<Auditorium | null> {
  return em.getRepository(Auditorium).findById(parseId(field, auditoriumId));
}

/** Every auditorium, by name. */
export async function listAuditoriums(em: EntityManager): Promise<Auditorium[]> {
  return em.getRepository(Auditorium).findAllByName();
}
