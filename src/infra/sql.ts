/**
 * Raw queries through MikroORM return `timestamptz` columns as strings (the ORM parses dates
 * only when it hydrates entities); this turns either form into a Date.
 */
export function asDate(value: Date | string): Date {
  return value instanceof Date ? value : new Date(value);
}
