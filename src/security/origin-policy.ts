/**
 * Whether a browser origin may call the API. Requests without an `Origin` header do not come
 * from a browser page and are not subject to it. With no allow-list, only the API's own origin
 * (same host) is allowed; with one, exactly the listed origins.
 */
export function isOriginAllowed(
  origin: string | undefined,
  host: string | undefined,
  allowList: readonly string[],
): boolean {
  if (!origin) {
    return true;
  }
  let parsed: URL;
  try {
    parsed = new URL(origin);
  } catch {
    return false;
  }
  if (allowList.length > 0) {
    return allowList.includes(parsed.origin);
  }
  return host !== undefined && parsed.host === host;
}
