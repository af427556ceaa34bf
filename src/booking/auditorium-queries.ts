import { type EntityManager } from '@mikro-orm/postgresql';
import { Auditorium } from '../entities/auditorium.entity';
import { notFound } from '../errors/domain-error';
import { parseId } from '../infra/uuid';

/**
 * One auditorium by id.
 *
 * @throws DomainError BAD_USER_INPUT for a malformed id, NOT_FOUND for a well-formed unknown one.
 */
export async function findAuditorium(
  em: EntityManager,
  auditoriumId: string,
  field = 'id',
): Promise<Auditorium> {
  const id = parseId(field, auditoriumId);
  const auditorium = await em.getRepository(Auditorium).findById(id);
  if (!auditorium) {
    throw notFound('Auditorium', id);
  }
  return auditorium;
}

/** Every auditorium, by name. */
export async function listAuditoriums(em: EntityManager): Promise<Auditorium[]> {
  return em.getRepository(Auditorium).findAllByName();
}
