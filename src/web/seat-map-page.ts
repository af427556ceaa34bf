import { isLoopbackRequest } from '../security/client-address';
import express, { type Express } from 'express';
import { canonicalId } from '../infra/uuid';
import { ASSETS_PATH } from './graphql-ide';

/** Mints a token for the local dev key; absent unless the dev key is in use. */
export type DevTokenIssuer = (userId: string, admin: boolean) => Promise<string>;

const page = (sessionId: string, devTokens: boolean) => `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Poltrona · seat map</title>
  <style>
    body { font-family: system-ui, sans-serif; margin: 24px; color: #1d2430; background: #f7f7f9; }
    h1 { font-size: 20px; margin: 0 0 4px; } .muted { color: #667; font-size: 13px; }
    #screen { margin: 16px 0 8px; height: 6px; background: #c8ccd6; border-radius: 3px; width: 100%; max-width: 720px; }
    #grid { display: grid; gap: 6px; margin: 12px 0; max-width: 720px; }
    .seat { border: 2px solid transparent; border-radius: 6px 6px 3px 3px; height: 30px; font-size: 11px;
            cursor: pointer; color: #fff; transition: background .2s; }
    .seat[data-status=AVAILABLE] { background: #2f9e5b; } .seat[data-status=RESERVED] { background: #e08a1e; }
    .seat[data-status=SOLD] { background: #8a8f9c; cursor: not-allowed; }
    .seat.selected { border-color: #1d4ed8; box-shadow: 0 0 0 2px #93c5fd; } .seat.mine { outline: 3px dashed #1d4ed8; }
    .row-label { font-size: 11px; color: #667; align-self: center; text-align: right; padding-right: 4px; }
    fieldset { border: 1px solid #d5d8e0; border-radius: 8px; max-width: 720px; margin: 12px 0; background: #fff; }
    input { padding: 6px; } input#token { width: 100%; box-sizing: border-box; font-family: monospace; font-size: 11px; }
    button { padding: 6px 12px; margin: 4px 4px 4px 0; } #status { font-weight: 600; } #error { color: #b42318; }
    .legend span { display: inline-block; width: 12px; height: 12px; border-radius: 3px; margin: 0 4px 0 12px; vertical-align: middle; }
  </style>
</head>
<body>
  <h1 id="title">Seat map</h1>
  <div class="muted" id="subtitle">Loading session ${sessionId}…</div>
  <div class="legend muted">
    <span style="background:#2f9e5b"></span>available <span style="background:#e08a1e"></span>reserved
    <span style="background:#8a8f9c"></span>sold · <span id="live">connecting…</span>
  </div>
  <div id="screen" title="screen"></div>
  <div id="grid"></div>
  <fieldset>
    <legend>Who are you?</legend>
    <input id="token" placeholder="Bearer token (npm run token -- --user alice)">
    ${devTokens ? '<div><input id="user" value="alice" size="12"> <button id="dev-token">Get a dev token</button></div>' : ''}
  </fieldset>
  <fieldset>
    <legend>Your reservation</legend>
    <div>Selected: <span id="selected">none</span></div>
    <button id="reserve">Reserve selected seats</button>
    <button id="confirm" disabled>Confirm payment</button>
    <button id="cancel" disabled>Cancel</button>
    <div>Status: <span id="status">—</span> <span id="countdown"></span></div>
    <div id="error"></div>
  </fieldset>
  <script src="${ASSETS_PATH}/graphql-ws.js"></script>
  <script>
    const sessionId = ${JSON.stringify(sessionId)};
    const httpUrl = location.origin + '/graphql';
    const seats = new Map();          // id -> { id, label, row, number, status, version }
    const selected = new Set();
    let reservation = null;           // { id, status, expiresAt, seatIds }
    let reservationWatch = null;
    const $ = (id) => document.getElementById(id);

    function authorization() {
      const token = $('token').value.trim();
      return token ? (token.startsWith('Bearer ') ? token : 'Bearer ' + token) : undefined;
    }
    async function graphql(query, variables) {
      const headers = { 'content-type': 'application/json' };
      if (authorization()) headers.authorization = authorization();
      const response = await fetch(httpUrl, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
      const body = await response.json();
      if (body.errors) throw new Error(body.errors.map((e) => e.extensions.code + ': ' + e.message).join('; '));
      return body.data;
    }
    function showError(error) { $('error').textContent = error ? String(error.message || error) : ''; }

    // A change is applied only if it is newer than what we hold: events may arrive late or twice.
    function applySeat(seat) {
      const known = seats.get(seat.id);
      if (known && known.version >= seat.version) return;
      seats.set(seat.id, Object.assign({}, known, seat));
      if (seat.status !== 'AVAILABLE') selected.delete(seat.id);
      render();
    }
    function render() {
      const grid = $('grid');
      const list = [...seats.values()];
      const perRow = Math.max(...list.map((s) => s.number));
      grid.style.gridTemplateColumns = '28px repeat(' + perRow + ', 1fr)';
      grid.innerHTML = '';
      let row = null;
      for (const seat of list) {
        if (seat.row !== row) {
          row = seat.row;
          const label = document.createElement('div');
          label.className = 'row-label'; label.textContent = row; grid.appendChild(label);
        }
        const button = document.createElement('button');
        button.className = 'seat' + (selected.has(seat.id) ? ' selected' : '')
          + (reservation && reservation.status === 'PENDING' && reservation.seatIds.includes(seat.id) ? ' mine' : '');
        button.textContent = seat.label;
        button.dataset.seat = seat.label; button.dataset.status = seat.status; button.dataset.version = seat.version;
        button.title = seat.label + ' · ' + seat.status + ' · v' + seat.version;
        button.onclick = () => {
          if (seat.status !== 'AVAILABLE') return;
          selected.has(seat.id) ? selected.delete(seat.id) : selected.add(seat.id);
          render();
        };
        grid.appendChild(button);
      }
      $('selected').textContent = [...selected].map((id) => seats.get(id).label).join(', ') || 'none';
    }
    function showReservation() {
      $('status').textContent = reservation ? reservation.status : '—';
      $('status').dataset.status = reservation ? reservation.status : '';
      const pending = reservation && reservation.status === 'PENDING';
      $('confirm').disabled = !pending; $('cancel').disabled = !pending;
      render();
    }
    setInterval(() => {
      if (!reservation || reservation.status !== 'PENDING') { $('countdown').textContent = ''; return; }
      const left = Math.max(0, Math.ceil((Date.parse(reservation.expiresAt) - Date.now()) / 1000));
      $('countdown').textContent = left > 0 ? '· ' + left + ' s left to pay' : '· time is up';
    }, 250);

    const live = graphqlWs.createClient({
      url: httpUrl.replace(/^http/, 'ws'),
      retryAttempts: Infinity,
      on: { connected: () => { $('live').textContent = 'live'; }, closed: () => { $('live').textContent = 'reconnecting…'; } },
    });
    function watchReservation(id) {
      if (reservationWatch) reservationWatch();
      const client = graphqlWs.createClient({
        url: httpUrl.replace(/^http/, 'ws'),
        connectionParams: { authorization: authorization() },
      });
      const dispose = client.subscribe(
        { query: 'subscription ($id: ID!) { reservationUpdated(reservationId: $id) { id status expiresAt } }', variables: { id } },
        {
          next: ({ data }) => {
            if (data && reservation && data.reservationUpdated.id === reservation.id) {
              reservation.status = data.reservationUpdated.status; showReservation();
            }
          },
          error: showError, complete: () => {},
        });
      reservationWatch = () => { dispose(); client.dispose(); };
    }

    async function load() {
      const data = await graphql('query ($id: ID!) { session(id: $id) { movie room startsAt seats { id label row number status version } } }', { id: sessionId });
      const session = data.session;
      $('title').textContent = session.movie + ' · room ' + session.room;
      $('subtitle').textContent = new Date(session.startsAt).toLocaleString();
      for (const seat of session.seats) applySeat(seat);
      live.subscribe(
        { query: 'subscription ($id: ID!) { seatStatusChanged(sessionId: $id) { seats { id label row number status version } } }', variables: { id: sessionId } },
        { next: ({ data }) => data && data.seatStatusChanged.seats.forEach(applySeat), error: showError, complete: () => {} });
    }

    $('reserve').onclick = async () => {
      showError();
      try {
        const data = await graphql('mutation ($input: ReserveInput!) { reserve(input: $input) { id status expiresAt seats { id label row number status version } } }',
          { input: { sessionId, seatIds: [...selected] } });
        reservation = { id: data.reserve.id, status: data.reserve.status, expiresAt: data.reserve.expiresAt, seatIds: data.reserve.seats.map((s) => s.id) };
        data.reserve.seats.forEach(applySeat);
        selected.clear(); showReservation(); watchReservation(reservation.id);
      } catch (error) { showError(error); }
    };
    $('confirm').onclick = async () => {
      showError();
      try {
        const data = await graphql('mutation ($id: ID!) { confirmPayment(reservationId: $id) { id seats { id label row number status version } } }', { id: reservation.id });
        data.confirmPayment.seats.forEach(applySeat);
        reservation.status = 'CONFIRMED'; showReservation();
      } catch (error) { showError(error); }
    };
    $('cancel').onclick = async () => {
      showError();
      try {
        const data = await graphql('mutation ($id: ID!) { cancelReservation(reservationId: $id) { id status seats { id label row number status version } } }', { id: reservation.id });
        data.cancelReservation.seats.forEach(applySeat);
        reservation.status = data.cancelReservation.status; showReservation();
      } catch (error) { showError(error); }
    };
    if ($('dev-token')) {
      $('dev-token').onclick = async () => {
        const response = await fetch('/demo/token', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ userId: $('user').value }) });
        $('token').value = (await response.json()).token;
      };
    }
    load().catch(showError);
  </script>
</body>
</html>`;

/**
 * The live seat-map demo at `/demo/sessions/:id`: the session's seats as a grid coloured by
 * status, kept live by `seatStatusChanged` (applying only newer versions), with reserve,
 * a countdown to `expiresAt`, confirm and cancel. With the dev key, `POST /demo/token` mints
 * a token so a developer can try it at once (loopback clients only, never through a proxy).
 */
export function mountSeatMapPage(app: Express, issueDevToken?: DevTokenIssuer): void {
  app.get('/demo/sessions/:id', (request, response) => {
    const sessionId = canonicalId(request.params.id);
    if (sessionId === null) {
      response.status(400).type('text').send('The session id must be a UUID.');
      return;
    }
    response.type('html').send(page(sessionId, issueDevToken !== undefined));
  });
  if (issueDevToken) {
    app.post('/demo/token', express.json({ limit: 1_024 }), async (request, response) => {
      // Minting tokens for anyone is for the developer at this machine only.
      if (!isLoopbackRequest(request)) {
        response.status(403).json({ error: 'Dev tokens are minted for loopback clients only.' });
        return;
      }
      const userId = (request.body as { userId?: unknown }).userId;
      if (typeof userId !== 'string' || !/^[\w.@-]{1,100}$/.test(userId)) {
        response.status(400).json({ error: 'userId must be 1-100 letters, digits, ".", "@", "_" or "-"' });
        return;
      }
      response.json({ token: await issueDevToken(userId, false) });
    });
  }
}
