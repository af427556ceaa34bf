import { Metrics, sharedPerScrape } from './metrics';

describe('gauges read at scrape time', () => {
  it('report no sample, never 0, when a read fails or times out, and count the failure', async () => {
    const metrics = new Metrics();
    let answer: () => Promise<number> = async () => 42;
    metrics.gaugeAtScrape('test_backlog', 'A backlog.', () => answer());
    expect(await metrics.registry.getSingleMetricAsString('test_backlog')).toMatch(/^test_backlog 42$/m);

    answer = async () => {
      throw new Error('database down');
    };
    const failed = await metrics.registry.getSingleMetricAsString('test_backlog');
    expect(failed).toContain('# TYPE test_backlog gauge');
    expect(failed).not.toMatch(/^test_backlog /m);
    expect(await metrics.scrapeReadFailures.get()).toMatchObject({
      values: [{ labels: { gauge: 'test_backlog' }, value: 1 }],
    });
    // A whole scrape shows the failure it met, not only the next one.
    const scrape = await metrics.registry.metrics();
    expect(scrape).not.toMatch(/^test_backlog /m);
    expect(scrape).toMatch(/^poltrona_scrape_read_failures_total\{gauge="test_backlog"\} 2$/m);

    answer = async () => 7;
    expect(await metrics.registry.getSingleMetricAsString('test_backlog')).toMatch(/^test_backlog 7$/m);
  });

  it('a labelled gauge reports no series when its read fails, and counts the failure', async () => {
    const metrics = new Metrics();
    let fail = false;
    metrics.labelledGaugeAtScrape('test_depth', 'Depths.', ['queue'], async () => {
      if (fail) {
        throw new Error('broker away');
      }
      return [{ labels: { queue: 'a' }, value: 1 }];
    });
    expect(await metrics.registry.getSingleMetricAsString('test_depth')).toContain('test_depth{queue="a"} 1');
    fail = true;
    expect(await metrics.registry.getSingleMetricAsString('test_depth')).not.toContain('test_depth{');
    expect((await metrics.scrapeReadFailures.get()).values).toEqual([
      { labels: { gauge: 'test_depth' }, value: 1 },
    ]);
  });
});

describe('sharedPerScrape', () => {
  afterEach(() => jest.useRealTimers());

  it('gives a read still running to every caller, however long it takes, then reads anew', async () => {
    jest.useFakeTimers({ now: 0 });
    let reads = 0;
    const pending: ((value: number) => void)[] = [];
    const shared = sharedPerScrape(
      () =>
        new Promise<number>((resolve) => {
          reads += 1;
          pending.push(resolve);
        }),
      1_000,
    );
    const first = shared();
    jest.setSystemTime(5_000);
    // An overlapping scrape, long after the first read began: it waits for that same read.
    const second = shared();
    expect(second).toBe(first);
    await Promise.resolve();
    expect(reads).toBe(1);
    pending[0](3);
    expect(await first).toBe(3);
    // Just settled: shared for a second.
    expect(shared()).toBe(first);
    jest.setSystemTime(6_001);
    const third = shared();
    expect(third).not.toBe(first);
    await Promise.resolve();
    expect(reads).toBe(2);
    pending[1](4);
    expect(await third).toBe(4);
  });
});
