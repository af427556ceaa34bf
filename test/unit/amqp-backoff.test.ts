import { backoffMilliseconds } from '../../src/infra/amqp';

describe('reconnection backoff', () => {
  it('doubles from 100 ms and is capped at 5 s', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20, 1_000].map(backoffMilliseconds)).toEqual([
      100, 200, 400, 800, 1_600, 3_200, 5_000, 5_000, 5_000,
    ]);
  });
});
