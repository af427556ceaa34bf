/**
 * Sets `key` to `value` in `map`, first forgetting its oldest entry (a `Map` keeps insertion
 * order) when a new key would take it past `limit`: the process's in-memory caches stay bounded,
 * oldest out first.
 */
export function setWithin<Key, Value>(map: Map<Key, Value>, key: Key, value: Value, limit: number): void {
  if (!map.has(key) && map.size >= limit) {
    map.delete(map.keys().next().value as Key);
  }
  map.set(key, value);
}
