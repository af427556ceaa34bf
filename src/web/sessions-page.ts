import { DEMO_ASSETS_PATH } from './demo-html';

/** The list of upcoming sessions (`/`); `sessions-script.ts` fills it in. */
export function sessionsPage(): string {
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Sessions · Poltrona</title>
  <link rel="stylesheet" href="${DEMO_ASSETS_PATH}/demo.css">
</head>
<body>
  <header>
    <h1>Upcoming sessions</h1>
    <p class="muted">Pick a session to open its live seat map. Developers: the GraphQL IDE is at
      <a href="/graphql">/graphql</a>.</p>
  </header>
  <main>
    <div id="error" class="notice" role="alert"></div>
    <p id="empty" class="muted" hidden>No upcoming sessions yet. An admin creates them in the
      <a href="/graphql">GraphQL IDE</a> (createAuditorium, then scheduleSession).</p>
    <table id="sessions" hidden>
      <thead>
        <tr><th>Movie</th><th>Room</th><th>When</th><th class="number">Seats left</th><th class="number">Price</th><th></th></tr>
      </thead>
      <tbody id="sessions-body"></tbody>
    </table>
    <p><button id="more" type="button" hidden>Show later sessions</button></p>
  </main>
  <script src="${DEMO_ASSETS_PATH}/demo-common.js"></script>
  <script src="${DEMO_ASSETS_PATH}/sessions.js"></script>
</body>
</html>`;
}
