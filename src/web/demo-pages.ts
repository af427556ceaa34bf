import { createHash } from 'node:crypto';
import { type Express, type Response } from 'express';
import { canonicalId } from '../infra/uuid';
import { DEMO_COMMON_SCRIPT } from './demo-common-script';
import { DEMO_ASSETS_PATH, DEMO_CONTENT_SECURITY_POLICY } from './demo-html';
import { DEMO_STYLE } from './demo-style';
import { type DevTokenIssuer, mountDevTokenRoute } from './dev-token-route';
import { SEAT_MAP_SCRIPT } from './seat-map-script';
import { seatMapPage } from './seat-map-page';
import { SESSIONS_SCRIPT } from './sessions-script';
import { sessionsPage } from './sessions-page';

/** A demo file: its content type, body and entity tag (the body never changes: tagged once). */
function demoAsset(type: string, body: string): { type: string; body: string; etag: string } {
  return { type, body, etag: entityTag(body) };
}

/** The demo pages' own files, by name under `DEMO_ASSETS_PATH`. */
const DEMO_ASSETS: Readonly<Record<string, { type: string; body: string; etag: string }>> = {
  'demo.css': demoAsset('text/css', DEMO_STYLE),
  'demo-common.js': demoAsset('text/javascript', DEMO_COMMON_SCRIPT),
  'seat-map.js': demoAsset('text/javascript', SEAT_MAP_SCRIPT),
  'sessions.js': demoAsset('text/javascript', SESSIONS_SCRIPT),
};

function sendPage(response: Response, html: string): void {
  response.setHeader('content-security-policy', DEMO_CONTENT_SECURITY_POLICY);
  response.setHeader('x-content-type-options', 'nosniff');
  response.setHeader('referrer-policy', 'no-referrer');
  response.setHeader('etag', entityTag(html));
  response.type('html').send(html);
}

/**
 * A weak validator for a demo page or asset. The server does not make ETags for every response
 * (hashing each 45 KB seat map cost ~3 % of the reads' CPU), so the few responses that browsers
 * revalidate (`no-cache`) carry their own; Express then answers a matching `If-None-Match` 304.
 */
function entityTag(body: string): string {
  return `W/"${createHash('sha1').update(body).digest('base64url')}"`;
}

/**
 * The demo pages, developer surfaces mounted beside the GraphQL IDE (only where introspection
 * is on):
 *
 * - `GET /`: the upcoming sessions, each linking to its seat map;
 * - `GET /demo/sessions/:id`: the live seat map of one session: its layout by `x`/`y`,
 *   categories with their prices, wheelchair and companion seats, the selection's total,
 *   reserve with the hold's countdown, pay and cancel, errors as sentences;
 * - `POST /demo/token`: with the dev key only (`issueDevToken` is given only then), a token
 *   for the page's user picker, for loopback clients only.
 *
 * The pages are static HTML with a strict Content-Security-Policy; their scripts read the API
 * over GraphQL like any client and put its text in the page with `textContent` only.
 */
export function mountDemoPages(app: Express, issueDevToken?: DevTokenIssuer): void {
  app.get('/', (_request, response) => sendPage(response, sessionsPage()));
  app.get(['/demo', '/demo/sessions'], (_request, response) => response.redirect('/'));
  app.get('/demo/sessions/:id', (request, response) => {
    const sessionId = canonicalId(request.params.id);
    if (sessionId === null) {
      response.status(400).type('text').send('The session id must be a UUID.');
      return;
    }
    sendPage(response, seatMapPage(sessionId, issueDevToken !== undefined));
  });
  app.get(`${DEMO_ASSETS_PATH}/:file`, (request, response, next) => {
    // An own property only: `__proto__` or `constructor` must not be served.
    const asset = Object.hasOwn(DEMO_ASSETS, request.params.file)
      ? DEMO_ASSETS[request.params.file]
      : undefined;
    if (!asset) {
      next();
      return;
    }
    response.setHeader('cache-control', 'no-cache');
    response.setHeader('x-content-type-options', 'nosniff');
    response.setHeader('etag', asset.etag);
    response.type(asset.type).send(asset.body);
  });
  if (issueDevToken) {
    mountDevTokenRoute(app, issueDevToken);
  }
}
