/**
 * Whether a browser origin may call the API. Requests without an `Origin` header do not come
 * from a browser page and are not subject to it. The API's own origin (same host: its IDE and
 * demo page) is always allowed; `CORS_ORIGINS` adds origins to it.
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
  return (host !== undefined && parsed.host === host) || allowList.includes(parsed.origin);
}
