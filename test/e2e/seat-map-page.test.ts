import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { createSession } from '../support/factories';
import { startTestApp, type TestApp, uniqueUser } from '../support/test-app';

const HOLD_SECONDS = 4;

/**
 * Two browsers on one seat map of a session made with `createSession` (a rectangle of STANDARD
 * seats), with a real auth key configured as in production: a reservation in one shows in the
 * other, expiry frees it in both, and there is no dev-token user picker.
 */
describe('live seat-map page in Chromium', () => {
  let testApp: TestApp;
  let browser: Browser;

  beforeAll(async () => {
    testApp = await startTestApp({ HOLD_SECONDS: String(HOLD_SECONDS) });
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await testApp?.stop();
  });

  async function openSeatMap(sessionId: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(testApp.url.replace('/graphql', `/demo/sessions/${sessionId}`));
    await page.waitForSelector('[data-seat="A1"]');
    await page.waitForSelector('#live[data-state="live"]');
    return page;
  }

  const seat = (page: Page, label: string) => page.locator(`[data-seat="${label}"]`);

  it('shows a reservation made in one page in the other, and expiry frees it in both', async () => {
    const session = await createSession(testApp, { rows: 3, seatsPerRow: 6 });
    const buyer = await openSeatMap(session.id);
    const watcher = await openSeatMap(session.id);

    await buyer.fill('#token', await testApp.token(uniqueUser('buyer')));
    await seat(buyer, 'B3').click();
    await seat(buyer, 'B4').click();
    await buyer.waitForSelector('#total[data-cents="2500"]');
    await buyer.click('#reserve');
    await buyer.waitForSelector('#status[data-status="PENDING"]');
    await buyer.waitForSelector('#countdown:text-matches("^0:0[1-4] left to pay")');

    // The other page shows the change live (it never reloads). Playwright's default timeout
    // only keeps a broken page from hanging the test: how fast is not a browser test's claim.
    await watcher.waitForSelector('[data-seat="B3"][data-status="RESERVED"]');
    await watcher.waitForSelector('[data-seat="B4"][data-status="RESERVED"]');

    // Expiry: the hold ends and both pages show the seats free again.
    await watcher.waitForSelector('[data-seat="B3"][data-status="AVAILABLE"]');
    await buyer.waitForSelector('[data-seat="B3"][data-status="AVAILABLE"]');
    await buyer.waitForSelector('#status[data-status="EXPIRED"]');
    expect(await buyer.textContent('#countdown')).toBe(
      'Your hold ended before payment, so its seats went back on sale.',
    );
    expect(await buyer.isDisabled('#confirm')).toBe(true);
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
    expect(await buyer.textContent('#message')).toBe('Paid 12.50 for A2. Enjoy the film!');
    await watcher.waitForSelector('[data-seat="A2"][data-status="SOLD"]');
  });

  it('draws a createSession room as a plain rectangle of STANDARD seats at its price', async () => {
    const session = await createSession(testApp, { rows: 2, seatsPerRow: 3, priceCents: 700 });
    const page = await openSeatMap(session.id);
    const box = async (label: string) => {
      const found = await seat(page, label).boundingBox();
      if (!found) {
        throw new Error(`${label} is not drawn`);
      }
      return found;
    };
    const [a1, a2, a3, b1] = await Promise.all(['A1', 'A2', 'A3', 'B1'].map(box));
    // No gaps: A1 A2 A3 one step apart, B1 right under A1.
    expect(a2.x - a1.x).toBeCloseTo(a3.x - a2.x, 0);
    expect(b1.x).toBeCloseTo(a1.x, 0);
    expect(b1.y).toBeGreaterThan(a1.y + a1.height / 2);
    expect(await page.locator('#legend .legend-item').allTextContents()).toEqual(['STANDARD · 7.00']);
    expect(await seat(page, 'B3').getAttribute('aria-label')).toBe('B3 · STANDARD · 7.00 · available');
  });

  it('offers no dev tokens when a real auth key is configured', async () => {
    const session = await createSession(testApp, { rows: 1, seatsPerRow: 2 });
    const page = await openSeatMap(session.id);
    expect(await page.locator('#user-picker').count()).toBe(0);
    expect(await page.isVisible('#token')).toBe(true);
    const minted = await page.evaluate(async () => {
      const response = await fetch('/demo/token', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ userId: 'alice' }),
      });
      return response.status;
    });
    expect(minted).toBe(404);
  });

  it('serves the self-hosted GraphQL IDE to browsers, with example tabs', async () => {
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
    const tabs = await page.locator('.graphiql-tab').allTextContents();
    for (const name of ['CreateAuditorium', 'ScheduleSession', 'Reserve', 'RefundSale']) {
      expect(tabs.some((tab) => tab.includes(name))).toBe(true);
    }
    expect(external).toEqual([]);
  });
});
