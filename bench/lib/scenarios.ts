/**
 * Every scenario of `npm run bench`, in the order it runs them; `npm run bench:compare` runs
 * the same ones (or those named). Each is `bench/<name>.bench.ts`.
 */
export const SCENARIOS: readonly string[] = [
  'reserve',
  'overload',
  'best-available',
  'stampede',
  'seat-map',
  'mixed-reads',
  'fan-out',
  'resume',
];
