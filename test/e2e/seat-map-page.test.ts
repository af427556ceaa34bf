import { existsSync } from 'node:fs';
import { type Browser, chromium, type Page } from 'playwright-core';
import { createSession } from '../support/factories';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

const HOLD_SECONDS = 4;

/** Two browsers on one seat map: a reservation in one shows in the other, and expiry frees it in both. */
describe('live seat-map page in Chromium', () => {
  let testApp: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
    if (!existsSync(executablePath)) {
      throw new Error(
        `No Chromium at ${executablePath}: install Debian's chromium (apt-get install chromium; ` +
          '.ci/run does it) or set CHROMIUM_PATH to a Chromium or Chrome binary.',
      );
    }
    testApp = await startTestApp({ HOLD_SECONDS: String(HOLD_SECONDS) });
    browser = await chromium.launch({
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
  });

  afterAll(async () => {
    await browser?.close();
    await testApp?.stop();
  });

  async function openSeatMap(sessionId: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(testApp.url.replace('/graphql', `/demo/sessions/${sessionId}`));
    await page.waitForSelector('[data-seat="A1"]');
    await page.waitForSelector('#live:text("live")');
    return page;
  }

  const seat = (page: Page, label: string) => page.locator(`[data-seat="${label}"]`);

  it('shows a reservation made in one page in the other within 2 s, and expiry frees it in both', async () => {
    const session = await createSession(testApp, { rows: 3, seatsPerRow: 6 });
    const buyer = await openSeatMap(session.id);
    const watcher = await openSeatMap(session.id);

    await buyer.fill('#token', await testApp.token(uniqueUser('buyer')));
    await seat(buyer, 'B3').click();
    await seat(buyer, 'B4').click();
    await buyer.click('#reserve');
    await buyer.waitForSelector('#status[data-status="PENDING"]');
    await buyer.waitForSelector('#countdown:text("s left to pay")');

    // The contract: subscribers see a committed change within 2 s.
    await watcher.waitForSelector('[data-seat="B3"][data-status="RESERVED"]', { timeout: 2_000 });
    await watcher.waitForSelector('[data-seat="B4"][data-status="RESERVED"]', { timeout: 2_000 });

    // Expiry: the hold ends and both pages show the seats free again.
    const freed = { timeout: (HOLD_SECONDS + 3) * 1_000 };
    await watcher.waitForSelector('[data-seat="B3"][data-status="AVAILABLE"]', freed);
    await buyer.waitForSelector('[data-seat="B3"][data-status="AVAILABLE"]', freed);
    await buyer.waitForSelector('#status[data-status="EXPIRED"]', freed);
    expect(await seat(watcher, 'B4').getAttribute('data-status')).toBe('AVAILABLE');
    expect(Number(await seat(watcher, 'B3').getAttribute('data-version'))).toBe(3);
  });

  it('confirms a reservation: the seats turn SOLD everywhere', async () => {
    const session = await createSession(testApp, { rows: 2, seatsPerRow: 4 });
    const buyer = await openSeatMap(session.id);
    const watcher = await openSeatMap(session.id);
    await buyer.fill('#token', await testApp.token(uniqueUser('buyer')));
    await seat(buyer, 'A2').click();
    await buyer.click('#reserve');
    await buyer.waitForSelector('#status[data-status="PENDING"]');
    await buyer.click('#confirm');
    await buyer.waitForSelector('#status[data-status="CONFIRMED"]');
    await watcher.waitForSelector('[data-seat="A2"][data-status="SOLD"]', { timeout: 2_000 });
  });

  it('serves the self-hosted GraphQL IDE to browsers', async () => {
    const page = await browser.newPage();
    const external: string[] = [];
    page.on('request', (request) => {
      if (!request.url().startsWith(testApp.url.replace('/graphql', ''))) {
        external.push(request.url());
      }
    });
    await page.goto(testApp.url);
    await page.waitForSelector('.graphiql-container');
    await page.click('.graphiql-execute-button');
    await page.waitForSelector('.result-window :text("sessions")');
    expect(external).toEqual([]);
  });
});
