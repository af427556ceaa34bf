/**
 * Readers of single environment variables: each returns the variable's value, or its fallback
 * when the variable is unset or blank, and refuses a bad value with a {@link ConfigError}
 * naming the variable, so that a misconfigured process stops at start rather than later.
 */

/** The variables a configuration is read from (`process.env`, or a test's own record). */
export type Environment = Record<string, string | undefined>;

/** Thrown at start-up when a variable is invalid; the message names the variable. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    reason: string,
  ) {
    super(`Invalid configuration: ${variable} ${reason}`);
    this.name = 'ConfigError';
  }
}

/** The trimmed text of `name`, or `fallback` when it is unset or blank. */
export function text(env: Environment, name: string, fallback: string): string {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? fallback : value;
}

/** The trimmed text of `name`, or `undefined` when it is unset or blank. */
export function optionalText(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** A whole number from `min` to `max` (inclusive). */
export function integer(env: Environment, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') {
    return fallback;
  }
  if (!/^\d+$/.test(raw)) {
    throw new ConfigError(name, `must be a whole number, got "${raw}"`);
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}

/** A URL using one of `protocols` (each with its colon, `redis:`), returned as written. */
export function url(env: Environment, name: string, fallback: string, protocols: readonly string[]): string {
  const value = text(env, name, fallback);
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must use ${protocols.join(' or ')}, got ${parsed.protocol}`);
  }
  return value;
}

/** `true`/`1` or `false`/`0`, in any case. */
export function boolean(env: Environment, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') {
    return fallback;
  }
  if (raw === 'true' || raw === '1') {
    return true;
  }
  if (raw === 'false' || raw === '0') {
    return false;
  }
  throw new ConfigError(name, `must be true or false, got "${raw}"`);
}
