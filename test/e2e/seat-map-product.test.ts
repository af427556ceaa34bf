import { randomUUID } from 'node:crypto';
import { type Browser, type Page } from 'playwright-core';
import { launchChromium } from '../support/chromium';
import { startTcpProxy } from '../support/tcp-proxy';
import { startTestApp, type TestApp } from '../support/test-app';

/** Prices of the test auditorium's two categories. */
const STANDARD_CENTS = 900;
const PREMIUM_CENTS = 1_250;

/**
 * A cinema room with an aisle after the third place of every row, two price categories, and
 * a wheelchair space (A1) with two companion seats (A2, A3):
 *
 *        x: 0 1 2 3 4 5 6
 *   row A:  w c c . s s s
 *   row B:  s s s . s s s
 *   row C:  p p p . p p p     (PREMIUM)
 */
const LAYOUT = {
  legend: [
    { symbol: 's', category: 'STANDARD' },
    { symbol: 'p', category: 'PREMIUM' },
    { symbol: 'w', category: 'STANDARD', kind: 'WHEELCHAIR' },
    { symbol: 'c', category: 'STANDARD', kind: 'COMPANION' },
  ],
  rows: ['wcc.sss', 'sss.sss', 'ppp.ppp'],
};

/**
 * A room for choosing seats (DESIGN §4.2): four rows, so the ideal row is
 * y = round(3 × 2 / 3) = 2 (row C); the longest row has 9 places, so the ideal column is
 * x = (9 − 1) / 2 = 4. Row C has two aisles, so its middle section holds three seats:
 *
 *        x: 0 1 2 3 4 5 6 7 8
 *   row A:  s s s s s s s c w     (A8 companion seat, A9 wheelchair space)
 *   row B:  s s s s s s s s s
 *   row C:  s s . s s s . s s     (C1 C2 | C3 C4 C5 | C6 C7)
 *   row D:  p p p p p p p p p     (PREMIUM)
 *
 * Best 2 seats on the empty map, distance = |Δy| + |Δx of the block's centre| / 4:
 * - C3+C4 and C4+C5 (x 3–4, 4–5; centres 3.5, 4.5): 0 + 0.5/4 = 0.125, but each leaves the third
 *   seat of the section alone, which the gap rule forbids: skipped;
 * - C1+C2 (x 0–1, centre 0.5) and C6+C7 (x 7–8, centre 7.5): 0 + 3.5/4 = 0.875, ties broken by
 *   the smaller x: **C1 and C2**;
 * - the best of rows B and D (centre 3.5 or 4.5): 1 + 0.5/4 = 1.125, further.
 * With a wheelchair space, the only block of 2 is A8+A9.
 */
const CHOOSING_LAYOUT = {
  legend: LAYOUT.legend,
  rows: ['ssssssscw', 'sssssssss', 'ss.sss.ss', 'ppppppppp'],
};

/** HOLD_MAX_SECONDS of the test service: how long a hold may last in all, extensions included. */
const HOLD_MAX_SECONDS = 600;

/**
 * The longest the page waits between two attempts to subscribe again (`retryWait` in
 * src/web/demo-common-script.ts: 0.5 s doubling to 5 s, jittered below it).
 */
const LONGEST_RETRY_WAIT_MILLISECONDS = 5_000;

/**
 * The page's clock jumps past its wait for the next attempt, once the way is open again: the
 * test does not wait out the backoff. An attempt already under way when the way opened may
 * still fail and wait again, in real time: a slower test then, never a failing one (the waits
 * that follow keep Playwright's default timeout, a guard against hanging, see chromium.ts).
 * Needs `page.clock.install()` before the page loads.
 */
async function skipRetryWait(page: Page): Promise<void> {
  await page.clock.fastForward(LONGEST_RETRY_WAIT_MILLISECONDS);
}

/**
 * The demo page as a product, in Chromium against the real services, with the service's
 * built-in dev key (no AUTH_PUBLIC_KEY), as on a developer's machine: the user picker mints
 * tokens, so nobody pastes a JWT.
 */
describe('seat-map product page in Chromium', () => {
  let testApp: TestApp;
  let browser: Browser;
  let base: string;
  let adminToken: string;

  /** A token from the page's own dev-token endpoint, as the user picker gets one. */
  async function devToken(userId: string, admin = false): Promise<string> {
    const response = await fetch(`${base}/demo/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ userId, admin }),
    });
    expect(response.status).toBe(200);
    return ((await response.json()) as { token: string }).token;
  }

  async function graphql<Data>(
    query: string,
    variables: Record<string, unknown>,
    token?: string,
  ): Promise<Data> {
    const answer = await testApp.graphql<Data>(query, variables, token);
    if (!answer.data) {
      throw new Error(`GraphQL failed: ${JSON.stringify(answer.errors)}`);
    }
    return answer.data;
  }

  /** An auditorium with LAYOUT and a session in it two days from now. */
  async function scheduleSession(
    options: {
      movie?: string;
      gapRule?: 'NO_SINGLE_SEAT' | 'OFF';
      layout?: { legend: typeof LAYOUT.legend; rows: string[] };
    } = {},
  ): Promise<{ id: string; auditoriumName: string; seats: Map<string, string> }> {
    const auditoriumName = `Sala ${randomUUID().slice(0, 8)}`;
    const { createAuditorium } = await graphql<{ createAuditorium: { id: string } }>(
      'mutation ($input: CreateAuditoriumInput!) { createAuditorium(input: $input) { id } }',
      { input: { name: auditoriumName, ...(options.layout ?? LAYOUT) } },
      adminToken,
    );
    const { scheduleSession: session } = await graphql<{
      scheduleSession: { id: string; seats: { id: string; label: string }[] };
    }>(
      'mutation ($input: ScheduleSessionInput!) { scheduleSession(input: $input) { id seats { id label } } }',
      {
        input: {
          auditoriumId: createAuditorium.id,
          movie: options.movie ?? 'Central do Brasil',
          startsAt: new Date(Date.now() + 2 * 86_400_000).toISOString(),
          durationMinutes: 115,
          prices: [
            { category: 'STANDARD', priceCents: STANDARD_CENTS },
            { category: 'PREMIUM', priceCents: PREMIUM_CENTS },
          ],
          ...(options.gapRule ? { gapRule: options.gapRule } : {}),
        },
      },
      adminToken,
    );
    return {
      id: session.id,
      auditoriumName,
      seats: new Map(session.seats.map((seat) => [seat.label, seat.id])),
    };
  }

  beforeAll(async () => {
    // No AUTH_PUBLIC_KEY: the service makes and uses its dev key, and offers dev tokens.
    testApp = await startTestApp({
      AUTH_PUBLIC_KEY: '',
      HOLD_SECONDS: '120',
      HOLD_MAX_SECONDS: String(HOLD_MAX_SECONDS),
    });
    base = testApp.url.replace('/graphql', '');
    adminToken = await devToken('admin-e2e', true);
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await testApp?.stop();
  });

  /** A fresh browser context (its own session storage, so its own user) on a seat map. */
  async function openSeatMap(sessionId: string): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${base}/demo/sessions/${sessionId}`);
    await page.waitForSelector('[data-seat="A1"]');
    await page.waitForSelector('#live[data-state="live"]');
    return page;
  }

  async function pickUser(page: Page, userId: string): Promise<void> {
    await page.selectOption('#user-picker', userId);
    await page.waitForSelector(`#identity[data-user="${userId}"]`);
  }

  /** Signs in as any user id, through the picker's "or another user id" form. */
  async function useUser(page: Page, userId: string): Promise<void> {
    await page.fill('#user-id', userId);
    await page.click('#use-user-id');
    await page.waitForSelector(`#identity[data-user="${userId}"]`);
  }

  const seat = (page: Page, label: string) => page.locator(`[data-seat="${label}"]`);

  /** The browser's globals these tests read (the test code is compiled without the DOM types). */
  type BrowserWindow = { getComputedStyle(element: unknown): { backgroundColor: string }; __xss?: number };

  async function box(page: Page, label: string) {
    const found = await seat(page, label).boundingBox();
    if (!found) {
      throw new Error(`${label} is not drawn`);
    }
    return found;
  }

  it('draws the layout: the aisle as a gap, categories in colours with their prices, accessible seats', async () => {
    const session = await scheduleSession();
    const page = await openSeatMap(session.id);

    const [a1, a3, a4, b1, b2, b3, b4, c1] = await Promise.all(
      ['A1', 'A3', 'A4', 'B1', 'B2', 'B3', 'B4', 'C1'].map((label) => box(page, label)),
    );
    const step = b2.x - b1.x;
    expect(step).toBeGreaterThan(b1.width);
    expect(b3.x - b2.x).toBeCloseTo(step, 0);
    // The aisle: one empty column between the 3rd and the 4th seat of every row.
    expect(b4.x - b3.x).toBeCloseTo(2 * step, 0);
    expect(a4.x - a3.x).toBeCloseTo(2 * step, 0);
    // Rows front first, columns aligned.
    expect(a1.x).toBeCloseTo(b1.x, 0);
    expect(c1.x).toBeCloseTo(b1.x, 0);
    expect(b1.y - a1.y).toBeGreaterThan(a1.height / 2);
    expect(c1.y - b1.y).toBeCloseTo(b1.y - a1.y, 0);

    // The legend: each category with its price, in the colour its seats have.
    const legend = page.locator('#legend .legend-item');
    expect(await legend.allTextContents()).toEqual(['STANDARD · 9.00', 'PREMIUM · 12.50']);
    const background = (label: string) =>
      seat(page, label).evaluate(
        (element) => (globalThis as unknown as BrowserWindow).getComputedStyle(element).backgroundColor,
      );
    const swatch = (category: string) =>
      page
        .locator(`#legend [data-category="${category}"] .swatch`)
        .evaluate(
          (element) => (globalThis as unknown as BrowserWindow).getComputedStyle(element).backgroundColor,
        );
    expect(await background('B1')).toBe(await swatch('STANDARD'));
    expect(await background('C1')).toBe(await swatch('PREMIUM'));
    expect(await background('C1')).not.toBe(await background('B1'));

    // Wheelchair and companion seats: an icon, and words for screen readers and tooltips.
    expect(await seat(page, 'A1').getAttribute('aria-label')).toBe(
      'A1 · STANDARD · 9.00 · wheelchair space · available',
    );
    expect(await seat(page, 'A1').getAttribute('title')).toBe(
      await seat(page, 'A1').getAttribute('aria-label'),
    );
    expect(await seat(page, 'A2').getAttribute('aria-label')).toBe(
      'A2 · STANDARD · 9.00 · companion seat · available',
    );
    expect(await seat(page, 'A1').textContent()).toBe('A1♿');
    expect(await page.getByRole('button', { name: 'C7 · PREMIUM · 12.50 · available' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'C6 · PREMIUM · 12.50 · available' }).count()).toBe(1);
    await page.close();
  });

  it('two users: picked without a JWT, a total, a hold with its countdown seen live, and a lost race as a sentence', async () => {
    const session = await scheduleSession();
    const alice = await openSeatMap(session.id);
    const bob = await openSeatMap(session.id);

    await pickUser(alice, 'alice');
    await pickUser(bob, 'bob');
    expect(await alice.textContent('#identity')).toBe('Signed in as alice.');

    // The selection's total: the sum of the seats' prices.
    await seat(alice, 'B1').click();
    await seat(alice, 'C4').click();
    await seat(alice, 'C5').click();
    await alice.waitForSelector('#total[data-cents="3400"]');
    expect(await alice.textContent('#total')).toBe('34.00');
    await seat(alice, 'C5').click();
    await alice.waitForSelector('#total[data-cents="2150"]');
    expect(await alice.textContent('#selected')).toBe('B1, C4');

    // Bob wants C4 too, and sends his reserve while it is still free; it reaches the server
    // only after Alice's hold is made.
    await seat(bob, 'C4').click();
    let releaseBob: () => void = () => undefined;
    const bobMayGo = new Promise<void>((resolve) => (releaseBob = resolve));
    let bobSent: () => void = () => undefined;
    const bobReserveSent = new Promise<void>((resolve) => (bobSent = resolve));
    await bob.route('**/graphql', async (route) => {
      if (route.request().postData()?.includes('reserve(input')) {
        bobSent();
        await bobMayGo;
      }
      await route.continue();
    });
    await bob.click('#reserve');
    await bobReserveSent;

    await alice.click('#reserve');
    await alice.waitForSelector('#status[data-status="PENDING"]');
    expect(await alice.textContent('#status')).toBe('Held for you: B1, C4 · 21.50');
    const countdown = await alice.waitForSelector('#countdown:text-matches("^[12]:[0-5][0-9] left to pay")');
    expect(await countdown.textContent()).toMatch(
      /^[12]:[0-5]\d left to pay\. At 0:00 the seats go back on sale\.$/,
    );
    expect(Number(await countdown.getAttribute('data-seconds-left'))).toBeLessThanOrEqual(120);
    expect(await seat(alice, 'C4').getAttribute('aria-label')).toBe('C4 · PREMIUM · 12.50 · held for you');

    // Bob's page sees the seats turn reserved live.
    await bob.waitForSelector('[data-seat="B1"][data-status="RESERVED"]');
    await bob.waitForSelector('[data-seat="C4"][data-status="RESERVED"]');

    // His reserve arrives too late: a sentence, not a code and not "[object …]".
    releaseBob();
    await bob.waitForSelector('#error:text("Someone else just took C4, pick another seat.")');
    expect(await bob.textContent('body')).not.toContain('[object');
    expect(await bob.getAttribute('#status', 'data-status')).toBe('');
  });

  it('explains the companion rule, and books a wheelchair space with its companion seat', async () => {
    const session = await scheduleSession();
    const page = await openSeatMap(session.id);
    await page.selectOption('#user-picker', 'carol');
    await page.waitForSelector('#identity[data-user="carol"]');

    await seat(page, 'A3').click();
    await page.click('#reserve');
    await page.waitForSelector(
      '#error:text-matches("^A companion seat can only be booked together with a wheelchair space")',
    );
    await seat(page, 'A1').click();
    await seat(page, 'A2').click();
    await page.waitForSelector('#total[data-cents="2700"]');
    await page.click('#reserve');
    await page.waitForSelector('#status[data-status="PENDING"]');
    expect(await page.textContent('#error')).toBe('');
    await page.click('#confirm');
    await page.waitForSelector('#status[data-status="CONFIRMED"]');
    expect(await page.textContent('#message')).toBe('Paid 27.00 for A1, A2 and A3. Enjoy the film!');
  });

  it('lets a tester pick any user or the admin, and keeps the choice across reloads', async () => {
    const session = await scheduleSession();
    const page = await openSeatMap(session.id);
    expect(await page.textContent('#identity')).toBe('Not signed in: pick a user to reserve seats.');
    await seat(page, 'B2').click();
    await page.click('#reserve');
    await page.waitForSelector(
      '#error:text("Pick a user under \\"Who are you?\\" (or paste a token) before reserving.")',
    );

    await pickUser(page, 'admin');
    expect(await page.textContent('#identity')).toBe('Signed in as admin (admin).');
    await page.fill('#user-id', 'dave.e2e');
    await page.click('#use-user-id');
    await page.waitForSelector('#identity[data-user="dave.e2e"]');
    await page.reload();
    await page.waitForSelector('#identity[data-user="dave.e2e"]');
    expect(await page.inputValue('#token')).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
  });

  it('lists upcoming sessions at /, with text that stays text, and links to their seat maps', async () => {
    const movie = '<img src=x onerror="window.__xss = 1">Heist & "Co"';
    const session = await scheduleSession({ movie });
    const page = await browser.newPage();
    const scriptErrors: string[] = [];
    page.on('pageerror', (error) => scriptErrors.push(error.message));
    await page.goto(`${base}/`);
    const row = page.locator(`tr[data-session-id="${session.id}"]`);
    await row.waitFor();
    expect(await row.locator('.movie').textContent()).toBe(movie);
    expect(await row.locator('.room').textContent()).toBe(session.auditoriumName);
    expect(await row.locator('.available').textContent()).toBe('18');
    expect(await row.locator('.price').textContent()).toBe('from 9.00');
    expect(await page.locator('img').count()).toBe(0);

    await row.locator('a').click();
    await page.waitForURL(`${base}/demo/sessions/${session.id}`);
    await page.waitForSelector('[data-seat="C6"]');
    expect(await page.textContent('#title')).toBe(movie);
    expect(await page.title()).toBe(`${movie} · ${session.auditoriumName} · Poltrona`);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as BrowserWindow).__xss)).toBeUndefined();
    expect(scriptErrors).toEqual([]);
  });

  it('says so when live updates drop, reconnects, and catches up on what it missed', async () => {
    const session = await scheduleSession();
    const page = await browser.newPage();
    let connectionsRefused = 0;
    let allowLive = false;
    await page.routeWebSocket(/\/graphql$/, async (socket) => {
      if (allowLive) {
        socket.connectToServer();
        return;
      }
      connectionsRefused += 1;
      await socket.close({ code: 1012, reason: 'Service Restart' });
    });
    await page.clock.install();
    await page.goto(`${base}/demo/sessions/${session.id}`);
    await page.waitForSelector('[data-seat="B5"]');
    await page.waitForSelector('#live[data-state="reconnecting"]');
    expect(await page.textContent('#live')).toBe('Reconnecting…');
    expect(connectionsRefused).toBeGreaterThan(0);
    expect(await page.textContent('body')).not.toContain('[object');

    // A change made while the page was not listening.
    const buyer = await devToken(`buyer-${randomUUID()}`);
    const seatId = session.seats.get('B5');
    const answer = await testApp.graphql(
      'mutation ($input: ReserveInput!) { reserve(input: $input) { id } }',
      // B4 too: the gap rule refuses leaving it alone by the aisle.
      {
        input: { sessionId: session.id, seatIds: [session.seats.get('B4'), seatId, session.seats.get('B6')] },
      },
      buyer,
    );
    expect(answer.errors).toBeUndefined();

    allowLive = true;
    await skipRetryWait(page);
    // The map was read at version 0; the reserve made version 1, replayed on connecting.
    await page.waitForSelector('#live:text("Up to date (v1)")');
    expect(await page.getAttribute('#live', 'data-state')).toBe('live');
    await page.waitForSelector('[data-seat="B5"][data-status="RESERVED"]');
    await page.waitForSelector('[data-seat="B6"][data-status="RESERVED"]');
  });

  /** Makes a reservation of the seats (by label) as a new user; returns its id. */
  async function reserveAs(
    session: { id: string; seats: Map<string, string> },
    labels: string[],
  ): Promise<{ id: string; token: string }> {
    const token = await devToken(`buyer-${randomUUID()}`);
    const { reserve } = await graphql<{ reserve: { id: string } }>(
      'mutation ($input: ReserveInput!) { reserve(input: $input) { id } }',
      { input: { sessionId: session.id, seatIds: labels.map((label) => session.seats.get(label)) } },
      token,
    );
    return { id: reserve.id, token };
  }

  async function serverMapVersion(sessionId: string): Promise<number> {
    const { session } = await graphql<{ session: { mapVersion: number } }>(
      'query ($id: ID!) { session(id: $id) { mapVersion } }',
      { id: sessionId },
    );
    return session.mapVersion;
  }

  /**
   * What a page asks the API over HTTP and subscribes to, as the tests check it: how many times
   * it read the seats (`session { … seats … }`), the `afterMapVersion` of each seat-map
   * subscription the server received (graphql-ws frames sent, Server-Sent Events requests
   * answered), and how many websockets it opened.
   */
  function watchTraffic(page: Page): { mapReads: number; resumedAfter: unknown[]; websockets: number } {
    const traffic = { mapReads: 0, resumedAfter: [] as unknown[], websockets: 0 };
    const subscribedAfter = (body: unknown) => {
      const payload = body as { query?: string; variables?: { after?: unknown } } | undefined;
      if (payload?.query?.includes('seatStatusChanged')) {
        traffic.resumedAfter.push(payload.variables?.after);
      }
    };
    page.on('request', (request) => {
      const body = request.postData() ?? '';
      if (
        request.method() === 'POST' &&
        new URL(request.url()).pathname === '/graphql' &&
        /\bseats\s*\{/.test(body)
      ) {
        traffic.mapReads += 1;
      }
    });
    // Streams the server answered (attempts while the network is down never reach it).
    page.on('response', (response) => {
      const request = response.request();
      if (request.method() === 'POST' && new URL(request.url()).pathname === '/graphql/stream') {
        subscribedAfter(JSON.parse(request.postData() ?? '{}'));
      }
    });
    page.on('websocket', (socket) => {
      traffic.websockets += 1;
      socket.on('framesent', ({ payload }) => {
        const message = JSON.parse(String(payload)) as { type?: string; payload?: unknown };
        if (message.type === 'subscribe') {
          subscribedAfter(message.payload);
        }
      });
    });
    return traffic;
  }

  /** The live line says "Up to date (vN)": the page is live at map version N. */
  async function upToDate(page: Page, version: number): Promise<void> {
    await page.waitForSelector(`#live[data-state="live"]:text-is("Up to date (v${version})")`);
    expect(await page.getAttribute('#live', 'data-map-version')).toBe(String(version));
  }

  async function statuses(page: Page, labels: string[]): Promise<Record<string, string | null>> {
    const entries = await Promise.all(
      labels.map(async (label) => [label, await seat(page, label).getAttribute('data-status')] as const),
    );
    return Object.fromEntries(entries);
  }

  /**
   * The page goes through a TCP proxy that the test cuts: every connection the page has, its
   * live one included, drops at once and new ones are refused, as when a phone changes networks;
   * restored on the same port, with no reload.
   */
  async function resumesAfterADrop(transport: 'ws' | 'sse'): Promise<void> {
    const session = await scheduleSession();
    const proxy = await startTcpProxy(Number(new URL(base).port));
    const page = await browser.newPage();
    try {
      const traffic = watchTraffic(page);
      const query = transport === 'sse' ? '?transport=sse' : '';
      await page.clock.install();
      await page.goto(`http://127.0.0.1:${proxy.port}/demo/sessions/${session.id}${query}`);
      await upToDate(page, 0);

      // Live: a change shows, and the version with it.
      const first = await reserveAs(session, ['B1', 'B2', 'B3']);
      await upToDate(page, 1);
      await page.waitForSelector('[data-seat="B1"][data-status="RESERVED"]');

      await proxy.cut();
      await page.waitForSelector('#live[data-state="reconnecting"]');
      expect(await page.textContent('#live')).toBe('Reconnecting…');

      // Four changes the page cannot hear: a payment, a hold and its cancellation, another hold.
      await graphql(
        'mutation ($id: ID!) { confirmPayment(reservationId: $id) { id } }',
        { id: first.id },
        first.token,
      );
      const second = await reserveAs(session, ['C4', 'C5', 'C6']);
      await graphql(
        'mutation ($id: ID!) { cancelReservation(reservationId: $id) { id } }',
        { id: second.id },
        second.token,
      );
      await reserveAs(session, ['B4', 'B5', 'B6']);
      expect(await serverMapVersion(session.id)).toBe(5);
      expect(await statuses(page, ['B1', 'B4', 'C4'])).toEqual({
        B1: 'RESERVED',
        B4: 'AVAILABLE',
        C4: 'AVAILABLE',
      });
      expect(await page.textContent('#live')).toBe('Reconnecting…');

      await proxy.restore();
      await skipRetryWait(page);
      await upToDate(page, 5);
      expect(await statuses(page, ['B1', 'B2', 'B3', 'B4', 'B5', 'B6', 'C4', 'C5', 'C6', 'A5'])).toEqual({
        B1: 'SOLD',
        B2: 'SOLD',
        B3: 'SOLD',
        B4: 'RESERVED',
        B5: 'RESERVED',
        B6: 'RESERVED',
        C4: 'AVAILABLE',
        C5: 'AVAILABLE',
        C6: 'AVAILABLE',
        A5: 'AVAILABLE',
      });
      // C4 was held and let go while the page was away: both changes came, in order.
      expect(await seat(page, 'C4').getAttribute('data-version')).toBe('3');
      // No reload and no second read of the map: it subscribed again after the version it held.
      expect(traffic.mapReads).toBe(1);
      expect(traffic.resumedAfter).toEqual([0, 1]);
      // Over SSE the page opens no websocket at all.
      if (transport === 'sse') {
        expect(traffic.websockets).toBe(0);
      } else {
        expect(traffic.websockets).toBeGreaterThanOrEqual(2);
      }
      expect(await page.textContent('body')).not.toContain('[object');
    } finally {
      await page.close();
      await proxy.close();
    }
  }

  /**
   * When the changes after the page's version are no longer kept (pruned: here deleted from the
   * log), the server answers RESYNC_REQUIRED: the page reads the map once more, and goes on from
   * its version.
   */
  async function readsAgainWhenTheServerCannotResume(transport: 'ws' | 'sse'): Promise<void> {
    const session = await scheduleSession();
    const proxy = await startTcpProxy(Number(new URL(base).port));
    const page = await browser.newPage();
    try {
      const traffic = watchTraffic(page);
      const query = transport === 'sse' ? '?transport=sse' : '';
      await page.clock.install();
      await page.goto(`http://127.0.0.1:${proxy.port}/demo/sessions/${session.id}${query}`);
      await upToDate(page, 0);
      await reserveAs(session, ['B1', 'B2', 'B3']);
      await upToDate(page, 1);

      await proxy.cut();
      await page.waitForSelector('#live[data-state="reconnecting"]');
      await reserveAs(session, ['C1', 'C2', 'C3']);
      await reserveAs(session, ['B4', 'B5', 'B6']);
      await testApp.app.orm.em.fork().execute('delete from seat_change where session_id = ?', [session.id]);
      await proxy.restore();
      await skipRetryWait(page);
      await upToDate(page, 3);
      expect(await statuses(page, ['B1', 'C1', 'C3', 'B6', 'A5'])).toEqual({
        B1: 'RESERVED',
        C1: 'RESERVED',
        C3: 'RESERVED',
        B6: 'RESERVED',
        A5: 'AVAILABLE',
      });
      expect(traffic.mapReads).toBe(2);
      // The refused resume after 1, then from the version read.
      expect(traffic.resumedAfter).toEqual([0, 1, 3]);

      // And live again from there.
      await reserveAs(session, ['A4', 'A5', 'A6']);
      await upToDate(page, 4);
      await page.waitForSelector('[data-seat="A6"][data-status="RESERVED"]');
      expect(traffic.mapReads).toBe(2);
    } finally {
      await page.close();
      await proxy.close();
    }
  }

  it('resumes after a dropped connection with afterMapVersion: it converges, with no reload and no map read', async () => {
    await resumesAfterADrop('ws');
  });

  it('reads the map again when the server cannot resume (RESYNC_REQUIRED), then goes on live', async () => {
    await readsAgainWhenTheServerCannotResume('ws');
  });

  it('?transport=sse: the same over Server-Sent Events, resumed after a dropped stream, with no websocket', async () => {
    await resumesAfterADrop('sse');
  });

  it('?transport=sse: RESYNC_REQUIRED (a next carrying the error, then complete) reads the map again', async () => {
    await readsAgainWhenTheServerCannotResume('sse');
  });

  it('?transport=sse: a hold is followed over Server-Sent Events too, with its token in the Authorization header', async () => {
    const session = await scheduleSession({ layout: CHOOSING_LAYOUT });
    const page = await browser.newPage();
    const traffic = watchTraffic(page);
    const streams: { query: string; authorization: string | undefined }[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/graphql/stream') {
        const body = JSON.parse(request.postData() ?? '{}') as { query: string };
        streams.push({ query: body.query, authorization: request.headers().authorization });
      }
    });
    await page.goto(`${base}/demo/sessions/${session.id}?transport=sse`);
    await upToDate(page, 0);
    await useUser(page, 'ivy');
    await askBestSeats(page, { quantity: 2 });
    await page.waitForSelector('#status[data-status="PENDING"]');
    await upToDate(page, 1);
    const reserved = await shownExpiresAt(page);

    // Extended from another tab: reservationUpdated, over the page's event stream, moves the end.
    const { myReservations } = await graphql<{ myReservations: { id: string }[] }>(
      '{ myReservations { id } }',
      {},
      await devToken('ivy'),
    );
    const { extendReservation } = await graphql<{ extendReservation: { expiresAt: string } }>(
      'mutation ($id: ID!) { extendReservation(reservationId: $id) { expiresAt } }',
      { id: myReservations[0].id },
      await devToken('ivy'),
    );
    expect(await expiresAtMovesPast(page, reserved)).toBe(Date.parse(extendReservation.expiresAt));
    const watch = streams.find((stream) => stream.query.includes('reservationUpdated'));
    expect(watch?.authorization).toMatch(/^Bearer ey/);
    expect(
      streams.find((stream) => stream.query.includes('seatStatusChanged'))?.authorization,
    ).toBeUndefined();
    expect(traffic.websockets).toBe(0);
  });

  it("mints dev tokens only for this service's pages, with well-formed requests", async () => {
    const mint = (body: string, headers: Record<string, string> = {}) =>
      fetch(`${base}/demo/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body,
      });
    const { host } = new URL(base);
    expect((await mint('{"userId":"alice"}', { origin: `http://${host}` })).status).toBe(200);
    expect((await mint('{"userId":"alice"}', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await mint('{"userId":"alice","admin":"yes"}')).status).toBe(400);
    expect((await mint('{"userId":"<script>"}')).status).toBe(400);
    expect((await mint('{not json')).status).toBe(400);
    expect((await mint('"alice"')).status).toBe(400);
    const admin = (await (await mint('{"userId":"root","admin":true}')).json()) as {
      token: string;
      admin: boolean;
    };
    expect(admin.admin).toBe(true);
    const me = await testApp.graphql<{ auditoriums: unknown[] }>('{ auditoriums { id } }', {}, admin.token);
    expect(me.errors).toBeUndefined();
  });

  it('serves the pages with a policy that allows no inline script', async () => {
    for (const path of ['/', `/demo/sessions/${randomUUID()}`]) {
      const response = await fetch(`${base}${path}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
    }
    expect((await fetch(`${base}/demo/sessions/not-a-uuid`)).status).toBe(400);
    expect((await fetch(`${base}/demo/assets/__proto__`)).status).toBe(404);
  });

  it('lets browsers revalidate the pages and assets (ETag, 304), though GraphQL answers carry no ETag', async () => {
    for (const path of ['/', '/demo/assets/demo.css', '/demo/assets/seat-map.js']) {
      const first = await fetch(`${base}${path}`);
      const tag = first.headers.get('etag');
      expect(tag).toMatch(/^W\/"/);
      // As a browser revalidates (fetch would add `cache-control: no-cache`, which forbids a 304).
      const again = await fetch(`${base}${path}`, {
        headers: { 'if-none-match': tag!, 'cache-control': 'max-age=0' },
      });
      expect(again.status).toBe(304);
    }
    const answer = await fetch(testApp.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('etag')).toBeNull();
  });

  it('says a session that does not exist does not exist', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/demo/sessions/${randomUUID()}`);
    await page.waitForSelector('#error:text-matches("^This session does not exist")');
    expect(await page.textContent('#live')).toBe('No live updates: the seat map did not load.');
  });

  /** The hold's end as the page shows it: `#countdown[data-expires-at]`, in ms since the epoch. */
  async function shownExpiresAt(page: Page): Promise<number> {
    const expiresAt = await page.getAttribute('#countdown', 'data-expires-at');
    expect(expiresAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    return Date.parse(expiresAt ?? '');
  }

  /** Waits until the page's countdown follows a hold end later than `after`. */
  async function expiresAtMovesPast(page: Page, after: number): Promise<number> {
    await page.waitForFunction((before) => {
      const document = (globalThis as unknown as { document: BrowserDocument }).document;
      return Date.parse(document.getElementById('countdown')?.dataset.expiresAt ?? '') > before;
    }, after);
    return shownExpiresAt(page);
  }

  /** The browser's document, as far as these tests read it. */
  type BrowserDocument = {
    getElementById(id: string): { dataset: Record<string, string | undefined> } | null;
  };

  async function askBestSeats(
    page: Page,
    request: { quantity: number; category?: string; accessible?: boolean },
  ): Promise<void> {
    await page.fill('#best-quantity', String(request.quantity));
    await page.selectOption('#best-category', request.category ?? '');
    await page.setChecked('#best-accessible', request.accessible ?? false);
    await page.click('#best');
  }

  it('holds the best seats for N: the block §4.2 scores best, by category and with a wheelchair space', async () => {
    const session = await scheduleSession({ layout: CHOOSING_LAYOUT });
    const page = await openSeatMap(session.id);
    await useUser(page, 'erin');
    expect(await page.locator('#best-category option').allTextContents()).toEqual([
      'any category',
      'STANDARD · 9.00',
      'PREMIUM · 12.50',
    ]);

    await page.fill('#best-quantity', '2');
    expect(await page.textContent('#best')).toBe('Hold the best 2 seats');
    await askBestSeats(page, { quantity: 2 });
    await page.waitForSelector('#status[data-status="PENDING"]');
    // Worked out in CHOOSING_LAYOUT's comment: the middle of row C would leave a seat alone.
    expect(await page.textContent('#status')).toBe('Held for you: C1, C2 · 18.00');
    expect(await page.textContent('#message')).toBe(
      'The best seats are held for you: C1 and C2. Pay before the countdown ends.',
    );
    await page.waitForSelector('#countdown:text-matches("^[12]:[0-5][0-9] left to pay")');
    expect(
      await page.locator('.seat.mine').evaluateAll((seats) => seats.map((seat) => seat.textContent)),
    ).toEqual(['C1', 'C2']);
    expect(await seat(page, 'C2').getAttribute('aria-label')).toBe('C2 · STANDARD · 9.00 · held for you');

    // More than any PREMIUM row holds: a sentence saying what was asked for.
    await askBestSeats(page, { quantity: 10, category: 'PREMIUM' });
    await page.waitForSelector('#error:text("No 10 seats side by side are free in PREMIUM.")');
    expect(await page.getAttribute('#status', 'data-status')).toBe('PENDING');

    // A wheelchair space with its companion seat, at the end of row A.
    await askBestSeats(page, { quantity: 2, accessible: true });
    await page.waitForSelector('#status:text("Held for you: A8, A9 · 18.00")');
    expect(await page.textContent('#error')).toBe('');
    expect(await seat(page, 'A9').getAttribute('aria-label')).toBe(
      'A9 · STANDARD · 9.00 · wheelchair space · held for you',
    );
  });

  it('refuses a selection that leaves a seat alone: a sentence naming it, and the seat outlined', async () => {
    const session = await scheduleSession({ layout: CHOOSING_LAYOUT });
    const page = await openSeatMap(session.id);
    await useUser(page, 'gina');

    await seat(page, 'A2').click();
    await seat(page, 'A3').click();
    await page.click('#reserve');
    await page.waitForSelector(
      '#error:text("That would leave A1 alone; take it too or pick seats that leave two together.")',
    );
    await page.waitForSelector('[data-seat="A1"].lone[data-lone="true"]');
    expect(await page.locator('.seat.lone').count()).toBe(1);
    expect(await seat(page, 'A1').getAttribute('aria-label')).toBe(
      'A1 · STANDARD · 9.00 · available · would be left alone',
    );
    expect(await page.getAttribute('#status', 'data-status')).toBe('');

    // Taking it too passes.
    await seat(page, 'A1').click();
    expect(await page.locator('.seat.lone').count()).toBe(0);
    await page.click('#reserve');
    await page.waitForSelector('#status[data-status="PENDING"]');
    expect(await page.textContent('#status')).toBe('Held for you: A1, A2, A3 · 27.00');
    expect(await page.textContent('#error')).toBe('');
  });

  it('extends a hold: the countdown follows the new end (answered and pushed), until the cap', async () => {
    const session = await scheduleSession({ layout: CHOOSING_LAYOUT });
    const page = await openSeatMap(session.id);
    await useUser(page, 'hugo');
    expect(await page.isDisabled('#extend')).toBe(true);
    await askBestSeats(page, { quantity: 2 });
    await page.waitForSelector('#status[data-status="PENDING"]');
    await page.waitForSelector('#countdown:text-matches("^[12]:[0-5][0-9] left to pay")');
    const reserved = await shownExpiresAt(page);

    // The page's own button: the end moves to now + HOLD_SECONDS, later than it was.
    await page.click('#extend');
    await page.waitForSelector('#message:text-matches("^Hold extended"), #error:not(:empty)');
    expect(await page.textContent('#error')).toBe('');
    expect(await page.textContent('#message')).toMatch(/^Hold extended: [12]:[0-5]\d left to pay\.$/);
    const extended = await expiresAtMovesPast(page, reserved);
    expect(extended - reserved).toBeLessThan(HOLD_MAX_SECONDS * 1_000);
    expect(await page.isEnabled('#extend')).toBe(true);

    // Extended elsewhere (another tab of the same user): reservationUpdated moves this countdown.
    const { myReservations } = await graphql<{ myReservations: { id: string; status: string }[] }>(
      '{ myReservations { id status } }',
      {},
      await devToken('hugo'),
    );
    const held = myReservations.find((reservation) => reservation.status === 'PENDING');
    if (!held) {
      throw new Error(`hugo holds nothing: ${JSON.stringify(myReservations)}`);
    }
    const { extendReservation } = await graphql<{ extendReservation: { expiresAt: string } }>(
      'mutation ($id: ID!) { extendReservation(reservationId: $id) { expiresAt } }',
      { id: held.id },
      await devToken('hugo'),
    );
    const pushed = await expiresAtMovesPast(page, extended);
    expect(pushed).toBe(Date.parse(extendReservation.expiresAt));

    // The hold made HOLD_MAX_SECONDS before its current end (as if extended for ten minutes):
    // its end is its cap, and the next extension is refused.
    await testApp.app.orm.em
      .fork()
      .execute('update reservation set created_at = expires_at - make_interval(secs => ?) where id = ?', [
        HOLD_MAX_SECONDS,
        held.id,
      ]);
    await page.click('#extend');
    await page.waitForSelector('#error:text("This hold cannot be extended any more.")');
    expect(await page.isDisabled('#extend')).toBe(true);
    expect(await shownExpiresAt(page)).toBe(pushed);
    expect(await page.getAttribute('#status', 'data-status')).toBe('PENDING');
    expect(await page.isEnabled('#confirm')).toBe(true);
  });
});
