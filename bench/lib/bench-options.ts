import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** `--smoke`: a few seconds per scenario, only to prove the benchmark still runs (CI). */
export const SMOKE = process.argv.includes('--smoke');

/** Picks the full value, or the smoke one. */
export function scale<Value>(full: Value, smoke: Value): Value {
  return SMOKE ? smoke : full;
}

/** Writes a scenario's numbers to bench/results/<name>.json (git-ignored) and prints them. */
export function report(name: string, results: Record<string, unknown>): void {
  const directory = join(__dirname, '..', '..', '..', 'bench', 'results');
  mkdirSync(directory, { recursive: true });
  writeFileSync(join(directory, `${name}${SMOKE ? '.smoke' : ''}.json`), JSON.stringify(results, null, 2));
}

export function shuffle<Item>(items: Item[]): Item[] {
  for (let index = items.length - 1; index > 0; index -= 1) {
    const other = Math.floor(Math.random() * (index + 1));
    [items[index], items[other]] = [items[other], items[index]];
  }
  return items;
}
