import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { SCENARIOS } from './lib/scenarios';

/** `npm run bench` (or `npm run bench:smoke`): every scenario, one after the other, each with its own server. */
const extra = process.argv.slice(2);
let failed = 0;
for (const scenario of SCENARIOS) {
  console.log(`\n=== ${scenario}`);
  try {
    execFileSync(process.execPath, [join(__dirname, `${scenario}.bench.js`), ...extra], { stdio: 'inherit' });
  } catch {
    failed += 1;
    console.error(`${scenario} failed`);
  }
}
process.exit(failed > 0 ? 1 : 0);
