import { DEMO_USERS } from './dev-token-route';
import { DEMO_ASSETS_PATH, escapeHtml } from './demo-html';
import { ASSETS_PATH } from './graphql-ide';

function userPicker(): string {
  const options = DEMO_USERS.map(
    (user) =>
      `<option value="${escapeHtml(user.userId)}" data-admin="${user.admin}">` +
      `${escapeHtml(user.userId)} (${escapeHtml(user.description)})</option>`,
  ).join('');
  return `
      <label>Demo user
        <select id="user-picker"><option value="">Pick a user…</option>${options}</select>
      </label>
      <form id="user-form">
        <label>or another user id
          <input id="user-id" placeholder="dave" size="14" autocomplete="off">
        </label>
        <button id="use-user-id" type="submit">Use</button>
      </form>`;
}

/**
 * The seat map of one session (`/demo/sessions/:id`). The page is static: `seat-map-script.ts`
 * loads the session and draws it. `sessionId` must already be a canonical UUID.
 */
export function seatMapPage(sessionId: string, devTokens: boolean): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Seat map · Poltrona</title>
  <link rel="stylesheet" href="${DEMO_ASSETS_PATH}/demo.css">
</head>
<body data-session-id="${escapeHtml(sessionId)}" data-dev-tokens="${devTokens}">
  <header>
    <a href="/">← All sessions</a>
    <h1 id="title">Seat map</h1>
    <div class="muted" id="subtitle">Loading the session…</div>
    <div id="live" role="status" data-state="connecting">Connecting to live updates…</div>
  </header>
  <main class="layout">
    <section class="map" aria-label="Seat map">
      <div id="legend" class="legend" aria-label="Prices by category"></div>
      <div class="legend muted" aria-label="What the seats show">
        <span class="legend-item"><span class="swatch"></span>available (colour of its category)</span>
        <span class="legend-item"><span class="swatch held"></span>held</span>
        <span class="legend-item"><span class="swatch sold"></span>sold</span>
        <span class="legend-item"><span class="swatch selected"></span>your selection</span>
        <span class="legend-item"><span class="swatch mine"></span>held for you</span>
        <span class="legend-item"><span class="swatch lone"></span>would be left alone</span>
        <span class="legend-item">\u267F wheelchair space</span>
        <span class="legend-item">\u2295 companion seat (booked with a wheelchair space)</span>
      </div>
      <div id="map-scroll">
        <div class="map-frame">
          <div id="screen" aria-hidden="true">SCREEN</div>
          <div id="grid" role="group" aria-label="Seats, front row first"></div>
        </div>
      </div>
    </section>
    <aside class="side">
      <fieldset>
        <legend>Who are you?</legend>
        ${devTokens ? userPicker() : ''}
        <details id="token-details"${devTokens ? '' : ' open'}>
          <summary>${devTokens ? 'Or paste a token' : 'Paste a token'}</summary>
          <label>Bearer token <span class="muted">(npm run token -- --user alice)</span>
            <input id="token" autocomplete="off" spellcheck="false">
          </label>
        </details>
        <div id="identity" class="muted" aria-live="polite"></div>
      </fieldset>
      <fieldset>
        <legend>Best seats</legend>
        <form id="best-form" novalidate>
          <label>Best seats for
            <input id="best-quantity" type="number" min="1" max="10" step="1" value="2" required>
          </label>
          <label>Category
            <select id="best-category"><option value="">any category</option></select>
          </label>
          <label class="check"><input id="best-accessible" type="checkbox"> with a wheelchair space</label>
          <button id="best" type="submit">Hold the best 2 seats</button>
        </form>
        <div class="muted">Side by side in one row, as near as can be to two thirds of the way back,
          centred. The server picks them and holds them at once.</div>
      </fieldset>
      <fieldset>
        <legend>Your seats</legend>
        <div class="seat-line">Selected: <span id="selected"></span></div>
        <div class="seat-line">Total: <strong id="total" data-cents="0">0.00</strong></div>
        <button id="reserve" type="button">Reserve selected seats</button>
        <div class="seat-line">Reservation: <span id="status" data-status=""></span></div>
        <div id="countdown" class="seat-line" data-seconds-left="" data-expires-at="" aria-live="polite"></div>
        <button id="confirm" type="button" disabled>Pay</button>
        <button id="extend" type="button" disabled>Extend hold</button>
        <button id="cancel" type="button" disabled>Cancel</button>
        <div id="message" class="notice" role="status"></div>
        <div id="error" class="notice" role="alert"></div>
      </fieldset>
    </aside>
  </main>
  <script src="${ASSETS_PATH}/graphql-ws.js"></script>
  <script src="${DEMO_ASSETS_PATH}/demo-common.js"></script>
  <script src="${DEMO_ASSETS_PATH}/seat-map.js"></script>
</body>
</html>`;
}
