import { EntityRepository, UniqueConstraintViolationException } from '@mikro-orm/postgresql';
import { type Auditorium } from '../entities/auditorium.entity';
import { badUserInput } from '../errors/domain-error';
import { constraintOf } from '../infra/database-errors';

/** What {@link AuditoriumRepository.add} stores. */
export type NewAuditorium = Pick<
  Auditorium,
  'name' | 'cleaningBufferMinutes' | 'categories' | 'capacity' | 'rows' | 'legend'
>;

// Advisory lock key of auditorium creations (the per-user reserve locks use two-key locks).
const AUDITORIUM_CREATION_LOCK = 7_205;

/** Auditorium queries, bound to one entity manager (`em.getRepository(Auditorium)`). */
export class AuditoriumRepository extends EntityRepository<Auditorium> {
  async findById(auditoriumId: string): Promise<Auditorium | null> {
    return this.findOne({ id: auditoriumId });
  }

  async findByIds(auditoriumIds: readonly string[]): Promise<Auditorium[]> {
    return this.find({ id: { $in: [...auditoriumIds] } });
  }

  /** One auditorium with its legend (lazy otherwise): all its layout, to build seats from. */
  async findWithLayout(auditoriumId: string): Promise<Auditorium | null> {
    return this.findOne({ id: auditoriumId }, { populate: ['legend'] });
  }

  /** Every auditorium, by name (then id). */
  async findAllByName(): Promise<Auditorium[]> {
    return this.findAll({ orderBy: [{ name: 'asc' }, { id: 'asc' }] });
  }

  /**
   * How many auditoriums there are, after taking the creation lock (a transaction-scoped advisory
   * lock), so that concurrent creations count one after the other. Inside a transaction only.
   */
  async countForCreation(): Promise<number> {
    const em = this.getEntityManager();
    await em.execute(`select pg_advisory_xact_lock(${AUDITORIUM_CREATION_LOCK})`);
    // A statement of its own: under READ COMMITTED it sees what the lock's previous holder committed.
    const [{ count }] = await em.execute<{ count: number }[]>(
      'select count(*)::int as count from auditorium',
    );
    return count;
  }

  /**
   * Inserts an auditorium at once (flushes its entity manager).
   *
   * @throws DomainError BAD_USER_INPUT (`field` `name`) when the name is taken.
   */
  async add(auditorium: NewAuditorium): Promise<Auditorium> {
    const em = this.getEntityManager();
    const created = this.create(auditorium);
    try {
      await em.flush();
    } catch (error) {
      if (
        error instanceof UniqueConstraintViolationException &&
        constraintOf(error) === 'auditorium_name_unique'
      ) {
        throw badUserInput('name', `An auditorium named '${auditorium.name}' already exists.`);
      }
      throw error;
    }
    return created;
  }
}
