import { randomUUID } from 'node:crypto';
import { type EntityManager } from '@mikro-orm/core';
import { type Pool, type PoolClient } from 'pg';

const MARKER = '/* prepared ';
const MARKER_END = ' */';

/**
 * A statement of the hot path, run with real bind parameters (`$1`, `$2`, …) as a named
 * prepared statement: PostgreSQL parses and plans it once per connection instead of on every
 * call, and no value is formatted into SQL text. Its text starts with a marker naming it, which
 * the pool's clients recognise ({@link prepareMarkedStatements}).
 */
export interface PreparedStatement {
  readonly name: string;
  readonly text: string;
  /** How many values it binds. */
  readonly parameterCount: number;
}

// Names in use: two texts under one name would fail only on a connection that prepared both.
const names = new Set<string>();

/**
 * A {@link PreparedStatement} named `name` (unique in the process) from `text` written with `?`
 * placeholders, as the rest of the repositories write SQL (and as their shared fragments are):
 * each `?` becomes the next `$n`, so the text must hold no other question mark.
 */
export function preparedStatement(name: string, text: string): PreparedStatement {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) {
    throw new Error(`A prepared statement's name must be a plain identifier: ${name}`);
  }
  if (names.has(name)) {
    throw new Error(`A prepared statement named ${name} already exists.`);
  }
  names.add(name);
  let parameterCount = 0;
  const numbered = text.replace(/\?/g, () => `$${(parameterCount += 1)}`);
  return { name, text: `${MARKER}${name}${MARKER_END} ${numbered}`, parameterCount };
}

type QueryFunction = PoolClient['query'];

/**
 * Makes every client of `pool` run a marked statement ({@link preparedStatement}) with its
 * values as a named prepared statement (node-postgres prepares it on the connection the first
 * time, then only binds and executes). Everything else goes through as it came. Installed by
 * the ORM configuration (`onPoolCreated`), because MikroORM's query path (kysely) hands node-
 * postgres a query text and values but no name.
 */
export function prepareMarkedStatements(pool: Pool): void {
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...parameters: unknown[]) => unknown;
    client.query = ((config: unknown, values?: unknown, callback?: unknown) => {
      if (typeof config === 'string' && config.startsWith(MARKER) && Array.isArray(values)) {
        const name = config.slice(MARKER.length, config.indexOf(MARKER_END));
        return query({ name, text: config, values }, callback);
      }
      return query(config, values, callback);
    }) as QueryFunction;
  });
}

// What MikroORM's transaction context (a kysely transaction) offers for a compiled query.
interface TransactionContext {
  executeQuery(query: {
    readonly sql: string;
    readonly parameters: readonly unknown[];
    readonly query: {
      readonly kind: 'RawNode';
      readonly sqlFragments: readonly string[];
      readonly parameters: readonly unknown[];
    };
    readonly queryId: { readonly queryId: string };
  }): Promise<{ rows: unknown[] }>;
}

/**
 * Runs `statement` with `values` in `em`'s transaction (it must be in one) and returns its rows.
 * Failures are MikroORM's exceptions, as `em.execute` throws them (unique violations, lock
 * timeouts, …).
 */
export async function executePrepared<Row>(
  em: EntityManager,
  statement: PreparedStatement,
  values: readonly unknown[],
): Promise<Row[]> {
  if (values.length !== statement.parameterCount) {
    throw new Error(
      `Prepared statement ${statement.name} binds ${statement.parameterCount} values, not ${values.length}.`,
    );
  }
  const transaction = em.getTransactionContext<TransactionContext & object>();
  if (!transaction) {
    // The hot path's statements are parts of transactions (a hold undone by a rollback).
    throw new Error(`Prepared statement ${statement.name} must run inside a transaction.`);
  }
  try {
    const { rows } = await transaction.executeQuery({
      sql: statement.text,
      parameters: values,
      query: { kind: 'RawNode', sqlFragments: [statement.text], parameters: [] },
      queryId: { queryId: randomUUID() },
    });
    return rows as Row[];
  } catch (error) {
    throw em.getDriver().convertException(error as Error);
  }
}
