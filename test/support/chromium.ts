import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/**
 * Starts headless Chromium for the browser tests: Debian's `chromium`, or the binary named by
 * `CHROMIUM_PATH`. Fails with the way to install it when there is none. Pages keep
 * Playwright's default 30 s timeout for waits: a guard against a broken page hanging the test
 * (well under jest's 60 s `testTimeout`, so the failure names the selector), never a latency
 * bound.
 */
export async function launchChromium(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(
      `No Chromium at ${executablePath}: install Debian's chromium (apt-get install chromium; ` +
        '.ci/run does it) or set CHROMIUM_PATH to a Chromium or Chrome binary.',
    );
  }
  return chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
