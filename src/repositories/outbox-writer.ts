import { type EntityManager } from '@mikro-orm/postgresql';

/** One outbox row to write: its id (a UUIDv7, taken when the event was recorded, so rows keep that order), topic, payload and trace context. */
export interface OutboxRow {
  readonly id: string;
  readonly topic: string;
  readonly payload: object;
  readonly traceContext: Record<string, string> | null;
}

/**
 * SQL that inserts the outbox rows given as its one parameter, {@link outboxRowsParameter}:
 * a statement of its own, or a data-modifying `with` part of another one.
 */
export const INSERT_OUTBOX_ROWS_SQL = `insert into outbox_event (id, topic, payload, created_at, trace_context)
  select id, topic, payload, now(), trace_context
    from jsonb_to_recordset(?::jsonb) as event(id uuid, topic text, payload jsonb, trace_context jsonb)`;

/** The parameter of {@link INSERT_OUTBOX_ROWS_SQL} for `rows`. */
export function outboxRowsParameter(rows: readonly OutboxRow[]): string {
  return JSON.stringify(
    rows.map((row) => ({
      id: row.id,
      topic: row.topic,
      payload: row.payload,
      trace_context: row.traceContext,
    })),
  );
}

/**
 * Writes outbox rows with one raw statement in the caller's transaction. Raw SQL, not the unit
 * of work: every booking transaction writes at least one row, and building an entity change set
 * for it was a measurable part of a hold's CPU (BENCHMARKS.md, "One uncontended reserve").
 */
export class OutboxWriter {
  constructor(private readonly em: EntityManager) {}

  async insert(rows: readonly OutboxRow[]): Promise<void> {
    if (rows.length > 0) {
      await this.em.execute(INSERT_OUTBOX_ROWS_SQL, [outboxRowsParameter(rows)]);
    }
  }
}
