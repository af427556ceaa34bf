/**
 * The value of a Prometheus counter or gauge served at `metricsUrl` (a process's `/metrics`),
 * summed over the series whose labels include `labels`; 0 while there is no such series.
 */
export async function metricValue(
  metricsUrl: string,
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  const response = await fetch(metricsUrl);
  if (!response.ok) {
    throw new Error(`GET ${metricsUrl} answered ${response.status}`);
  }
  const wanted = Object.entries(labels).map(([label, value]) => `${label}="${value}"`);
  let total = 0;
  for (const line of (await response.text()).split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] === name && wanted.every((pair) => (match[2] ?? '').split(',').includes(pair))) {
      total += Number(match[3]);
    }
  }
  return total;
}

/** Messages `consumer` has finished handling (outcome ok) in the process serving `metricsUrl`. */
export function messagesHandled(metricsUrl: string, consumer: string): Promise<number> {
  return metricValue(metricsUrl, 'poltrona_consumer_messages_total', { consumer, outcome: 'ok' });
}
