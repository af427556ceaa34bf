import { exportedMetricNames, metricNamesIn, sampledMetricNames } from '../support/promql';

describe('metricNamesIn (the PromQL reader of the dashboards test)', () => {
  it.each([
    ['poltrona_holds_total', ['poltrona_holds_total']],
    ['sum(rate(poltrona_holds_total[5m]))', ['poltrona_holds_total']],
    [
      'histogram_quantile(0.95, sum by (le, field) (rate(poltrona_graphql_operation_duration_seconds_bucket{type=~"query|mutation", le!="+Inf"}[$__rate_interval])))',
      ['poltrona_graphql_operation_duration_seconds_bucket'],
    ],
    [
      'sum(rate(a_total{code="5xx"}[5m])) / sum(rate(b_total[5m])) > 0.01 or sum(c) without (instance) unless on (job) d',
      ['a_total', 'b_total', 'c', 'd'],
    ],
    ['max(x) by (queue) > 1e3 and bool y offset 1h30m', ['x', 'y']],
    ['(max(used) / max(max_bytes) > 0.8) and on () (max(max_bytes) > 0)', ['max_bytes', 'used']],
    ['rate(x[5m] offset 1w) * on (instance) group_left (version) build_info', ['build_info', 'x']],
    ['max_over_time(deriv(x[1h])[1d:5m])', ['x']],
    ['label_replace(up{job="poltrona"}, "name", "$1", "instance", "(.*)") == 0', ['up']],
    ['count(max by (session_id) (occupancy)) + inf - NaN', ['occupancy']],
    ['{__name__="hidden"}', []],
  ])('reads %s', (expression, names) => {
    expect(metricNamesIn(expression)).toEqual(names);
  });

  it('reports a misspelt name, so a typo in a panel or a rule fails the test', () => {
    const exported = exportedMetricNames(
      [
        '# HELP poltrona_holds_total Holds.',
        '# TYPE poltrona_holds_total counter',
        'poltrona_holds_total 3',
        '# TYPE poltrona_latency_seconds histogram',
        'poltrona_latency_seconds_bucket{le="+Inf"} 1',
      ].join('\n'),
    );
    const missing = (expression: string) => metricNamesIn(expression).filter((name) => !exported.has(name));
    expect(missing('sum(increase(poltrona_holds_total[1h]))')).toEqual([]);
    expect(missing('sum(increase(poltrona_hold_total[1h]))')).toEqual(['poltrona_hold_total']);
    expect(
      missing('histogram_quantile(0.5, sum by (le) (rate(poltrona_latency_seconds_bucket[5m])))'),
    ).toEqual([]);
    expect(missing('rate(poltrona_latency_seconds_buckets[5m])')).toEqual([
      'poltrona_latency_seconds_buckets',
    ]);
    expect(missing('rate(poltrona_latency_seconds[5m])')).toEqual(['poltrona_latency_seconds']);
  });

  it('knows which series have samples, apart from declared ones', () => {
    const text = '# TYPE a counter\n# TYPE b gauge\nb{x="1"} 2\n';
    expect([...exportedMetricNames(text)].sort()).toEqual(['a', 'b']);
    expect([...sampledMetricNames(text)]).toEqual(['b']);
  });
});
