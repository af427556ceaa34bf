import express, { type ErrorRequestHandler, type Express, type RequestHandler } from 'express';
import { type Config } from '../config/config';
import { loadOrCreateDevKeyPair, signToken } from '../infra/dev-keys';
import { isLoopbackRequest } from '../security/client-address';

/**
 * Mints a token for the local dev key. Only the composition root makes one, and only when the
 * dev key is in use (`config.auth.key.kind === 'devKey'`): with `AUTH_PUBLIC_KEY` or
 * `AUTH_JWKS_URL` configured there is none and `POST /demo/token` does not exist.
 */
export type DevTokenIssuer = (userId: string, admin: boolean) => Promise<string>;

/**
 * The dev token issuer for this configuration: one only when the service verifies tokens with
 * its built-in dev key (no `AUTH_PUBLIC_KEY` or `AUTH_JWKS_URL`, and a `NODE_ENV` that allows a
 * dev key), never when a real key is configured. Its tokens carry the configured issuer and
 * audience, so the service accepts them.
 */
export function devTokenIssuerFor(auth: Config['auth']): DevTokenIssuer | undefined {
  if (auth.key.kind !== 'devKey') {
    return undefined;
  }
  return (userId, admin) =>
    signToken(loadOrCreateDevKeyPair().privateKeyPem, {
      userId,
      admin,
      issuer: auth.issuer,
      audience: auth.audience,
    });
}

/** A user the demo page's picker offers. */
export interface DemoUser {
  readonly userId: string;
  readonly admin: boolean;
  /** What the picker says about the user. */
  readonly description: string;
}

/** The named users of the demo page's user picker (any other id can be typed in). */
export const DEMO_USERS: readonly DemoUser[] = [
  { userId: 'alice', admin: false, description: 'customer' },
  { userId: 'bob', admin: false, description: 'customer' },
  { userId: 'carol', admin: false, description: 'customer' },
  { userId: 'admin', admin: true, description: 'admin: creates auditoriums and sessions' },
];

/** The user ids a dev token may be minted for. */
export const DEV_TOKEN_USER_ID = /^[\w.@-]{1,100}$/;

function refuse(response: express.Response, status: number, error: string): void {
  response.status(status).setHeader('cache-control', 'no-store').json({ error });
}

/** Whether the request came from a page of this very service (or from no page at all). */
function isSameOriginOrNone(request: express.Request): boolean {
  const origin = request.headers.origin;
  if (origin === undefined) {
    return true;
  }
  try {
    return new URL(origin).host === request.headers.host;
  } catch {
    return false;
  }
}

const mint =
  (issueDevToken: DevTokenIssuer): RequestHandler =>
  async (request, response) => {
    // Minting tokens for anyone is for the developer at this machine only.
    if (!isLoopbackRequest(request)) {
      refuse(response, 403, 'Dev tokens are minted for loopback clients only.');
      return;
    }
    if (!isSameOriginOrNone(request)) {
      refuse(response, 403, "Dev tokens are minted for this service's own pages only.");
      return;
    }
    const body: unknown = request.body;
    const { userId, admin } = (typeof body === 'object' && body !== null ? body : {}) as {
      userId?: unknown;
      admin?: unknown;
    };
    if (typeof userId !== 'string' || !DEV_TOKEN_USER_ID.test(userId)) {
      refuse(response, 400, 'userId must be 1-100 letters, digits, ".", "@", "_" or "-" (send JSON).');
      return;
    }
    if (admin !== undefined && typeof admin !== 'boolean') {
      refuse(response, 400, 'admin must be true or false.');
      return;
    }
    const token = await issueDevToken(userId, admin === true);
    response.setHeader('cache-control', 'no-store');
    response.json({ token, userId, admin: admin === true });
  };

// An unreadable or oversized body is the client's mistake, answered in the route's own shape.
const unreadableBody: ErrorRequestHandler = (error: { status?: number }, _request, response, next) => {
  if (!response.headersSent && error.status !== undefined && error.status >= 400 && error.status < 500) {
    refuse(response, 400, 'The body must be JSON: { "userId": "alice", "admin": false }.');
    return;
  }
  next(error);
};

/**
 * `POST /demo/token` `{ userId, admin? }` → `{ token, userId, admin }`: a token signed with the
 * dev key, so the demo page's user picker needs no pasted JWT. Answers loopback clients only,
 * never through a proxy or a rebound DNS name (`isLoopbackRequest`), and refuses requests that
 * a page of another origin sent. Mount it only with an issuer, i.e. only with the dev key.
 */
export function mountDevTokenRoute(app: Express, issueDevToken: DevTokenIssuer): void {
  app.post('/demo/token', express.json({ limit: 1_024 }), mint(issueDevToken), unreadableBody);
}
