import { type MikroORM } from '@mikro-orm/postgresql';

/** Counts other connections to `orm`'s database (the asking one left out) that match `condition`. */
async function otherConnections(orm: MikroORM, condition: string): Promise<number> {
  const [{ count }] = await orm.em.fork().execute<{ count: number }[]>(
    `select count(*)::int as count from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid() and (${condition})`,
  );
  return count;
}

/** Statements on `orm`'s database that are waiting for a lock another transaction holds. */
export function statementsWaitingForLocks(orm: MikroORM): Promise<number> {
  return otherConnections(orm, `wait_event_type = 'Lock'`);
}

/**
 * Connections to `orm`'s database running a statement or inside a transaction: none means
 * whatever was under way there has committed or rolled back.
 */
export function busyConnections(orm: MikroORM): Promise<number> {
  return otherConnections(orm, `state = 'active' or state like 'idle in transaction%'`);
}
