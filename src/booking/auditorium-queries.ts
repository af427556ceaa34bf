import { type EntityManager } from '@mikro-orm/postgresql';
import { Auditorium } from '../entities/auditorium.entity';
import { badUserInput, notFound } from '../errors/domain-error';
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

/** Most sessions `Auditorium.sessions` answers: the earliest of its range. */
export const MAX_SCHEDULE_SESSIONS = 200;

/** Which of an auditorium's sessions to read: starting in `[from, to)`, at most `limit`. */
export interface ScheduleRange {
  readonly from?: Date;
  readonly to?: Date;
  readonly limit: number;
}

/**
 * The range of an auditorium's schedule asked for.
 *
 * @throws DomainError BAD_USER_INPUT when `to` is not later than `from`.
 */
export function scheduleRange(from?: Date | null, to?: Date | null): ScheduleRange {
  if (from && to && from >= to) {
    throw badUserInput('to', 'to must be later than from.');
  }
  return { from: from ?? undefined, to: to ?? undefined, limit: MAX_SCHEDULE_SESSIONS };
}
