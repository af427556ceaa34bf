import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SCENARIOS } from './lib/scenarios';

/**
 * `npm run bench:compare -- <git ref> [scenario …]`: before/after in the same run. Builds the
 * server of `<ref>` in a temporary worktree (sharing this checkout's node_modules when both
 * lock files agree, else installing `<ref>`'s own with `npm ci`), then runs each scenario
 * (default: all) against that server and against this checkout's, one right after the other,
 * with the same benchmark client. Both servers run on this checkout's Node
 * (`process.execPath`).
 */
const ROOT = join(__dirname, '..', '..');
const [ref, ...chosen] = process.argv.slice(2).filter((argument) => !argument.startsWith('--'));
const flags = process.argv.slice(2).filter((argument) => argument.startsWith('--'));
if (!ref) {
  console.error('usage: npm run bench:compare -- <git ref> [scenario …] [--smoke]');
  process.exit(2);
}
const scenarios = chosen.length > 0 ? chosen : SCENARIOS;
const unknown = scenarios.filter((scenario) => !SCENARIOS.includes(scenario));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; choose from ${SCENARIOS.join(', ')}`);
  process.exit(2);
}

const before = mkdtempSync(join(tmpdir(), 'poltrona-before-'));
const git = (...args: string[]) => execFileSync('git', args, { cwd: ROOT, stdio: 'inherit' });
let failed = 0;
try {
  git('worktree', 'add', '--detach', before, ref);
  const lockFile = (root: string) => readFileSync(join(root, 'package-lock.json'), 'utf8');
  if (lockFile(before) === lockFile(ROOT)) {
    symlinkSync(join(ROOT, 'node_modules'), join(before, 'node_modules'));
  } else {
    // Other dependencies (e.g. another ORM major): the ref gets its own, as locked then.
    console.log(`\n=== ${ref} locks other dependencies: npm ci in ${before}`);
    execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
      cwd: before,
      stdio: 'inherit',
    });
  }
  execFileSync(
    process.execPath,
    [join(before, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: before,
      stdio: 'inherit',
    },
  );
  for (const scenario of scenarios) {
    for (const [label, serverRoot] of [
      [`before (${ref})`, before],
      ['after (this checkout)', ROOT],
    ]) {
      console.log(`\n=== ${scenario}, ${label}`);
      try {
        execFileSync(process.execPath, [join(__dirname, `${scenario}.bench.js`), ...flags], {
          stdio: 'inherit',
          env: { ...process.env, BENCH_SERVER_ROOT: serverRoot },
        });
      } catch {
        failed += 1;
        console.error(`${scenario} (${label}) failed`);
      }
    }
  }
} finally {
  git('worktree', 'remove', '--force', before);
  rmSync(before, { recursive: true, force: true });
}
process.exit(failed > 0 ? 1 : 0);
