/**
 * The metric names a PromQL expression reads, for checking dashboards and alert rules against
 * what `/metrics` really exports. Not a PromQL parser: it removes what cannot name a metric
 * (strings, label matchers, ranges and subqueries, grouping clauses, Grafana variables,
 * numbers and durations) and keeps the identifiers that are neither a function call, an
 * aggregation nor a keyword.
 */
export function metricNamesIn(expression: string): string[] {
  let text = expression
    // Grafana variables: $__rate_interval, ${var}, [[var]].
    .replace(/\$\{[^}]*\}|\$\w+|\[\[[^\]]*\]\]/g, ' ')
    // Comments.
    .replace(/#[^\n]*/g, ' ')
    // String literals (label values, arguments of label_replace and friends).
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    // Label matchers and ranges / subqueries.
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ');
  // Grouping and vector-matching clauses: by (...), without (...), on (...), ignoring (...),
  // group_left (...), group_right (...): label names, never metrics.
  text = text.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, ' ');
  const names = new Set<string>();
  const token = /([0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?(?:ms|[smhdwy])*)|([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/gi;
  for (const match of text.matchAll(token)) {
    const [, number, identifier, call] = match;
    if (number !== undefined || identifier === undefined || call !== undefined) {
      continue;
    }
    if (KEYWORDS.has(identifier.toLowerCase())) {
      continue;
    }
    names.add(identifier);
  }
  return [...names].sort();
}

// Binary operators, modifiers and literals of PromQL that look like identifiers.
const KEYWORDS: ReadonlySet<string> = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
  'atan2',
]);

/**
 * The series names `/metrics` declares (its `# TYPE` lines): a histogram's `_bucket`, `_sum`
 * and `_count` (its bare name is no series), a summary's bare name (its quantiles), `_sum` and
 * `_count`, any other type's name.
 */
export function exportedMetricNames(metricsText: string): Set<string> {
  const names = new Set<string>();
  for (const line of metricsText.split('\n')) {
    const match = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (!match) {
      continue;
    }
    const [, name, type] = match;
    if (type !== 'histogram') {
      names.add(name);
    }
    if (type === 'histogram') {
      names.add(`${name}_bucket`);
    }
    if (type === 'histogram' || type === 'summary') {
      names.add(`${name}_sum`);
      names.add(`${name}_count`);
    }
  }
  return names;
}

/** The names of the series that have at least one sample in `metricsText`. */
export function sampledMetricNames(metricsText: string): Set<string> {
  const names = new Set<string>();
  for (const line of metricsText.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})? \S+$/.exec(line);
    if (match) {
      names.add(match[1]);
    }
  }
  return names;
}
