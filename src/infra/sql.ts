/**
 * Raw queries through MikroORM return `timestamptz` columns as strings (the ORM parses dates
 * only when it hydrates entities); this turns either form into a Date.
 */
export function asDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}

/**
 * Lowers the connection's `statement_timeout` and `lock_timeout` to the bound parameter
 * (milliseconds) for the rest of the current transaction, in one round trip; never raises them
 * (a lower configured value, or 0 = unbounded turned into the bound, is kept as the smaller).
 */
export const LIMIT_TIMEOUTS_SQL = `select set_config(name, least(nullif(extract(epoch from current_setting(name)::interval) * 1000, 0), ?)::bigint::text, true)
  from unnest(array['statement_timeout', 'lock_timeout']) as name`;
