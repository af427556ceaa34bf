import { createHash, createPublicKey } from 'node:crypto';
import { createRemoteJWKSet } from 'jose';
import { type Config } from '../config/config';
import { unauthenticated } from '../errors/domain-error';
import { type ProcessClock, SYSTEM_CLOCK } from './clock';
import { loadOrCreateDevKeyPair } from './dev-keys';
import { type Rs256Key, verifyRs256Jwt } from './rs256-jwt';
import { setWithin } from './bounded-map';

/** The authenticated caller. */
export interface Viewer {
  /** The token's `sub`. */
  readonly userId: string;
  /** The token's `roles` claim contains "admin". */
  readonly isAdmin: boolean;
  /** When the token stops being valid (`exp`, required); long-lived websockets are closed then. */
  readonly expiresAt: Date;
}

/** Turns a bearer token into a {@link Viewer}, or throws UNAUTHENTICATED. */
export type TokenVerifier = (token: string) => Promise<Viewer>;

const MAX_USER_ID_LENGTH = 200;

function rsaPublicKey(pem: string): Rs256Key {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'rsa') {
    throw new Error('The auth public key is not an RSA key (RS256).');
  }
  return key;
}

function verificationKey(auth: Config['auth']): Rs256Key {
  switch (auth.key.kind) {
    case 'publicKey':
      return rsaPublicKey(auth.key.pem);
    case 'jwks': {
      // An unknown `kid` triggers a refetch (key rotation needs no restart), at most once per cooldown.
      const keySet = createRemoteJWKSet(new URL(auth.key.url), {
        cooldownDuration: auth.jwksCooldownSeconds * 1_000,
        timeoutDuration: 5_000,
      });
      return (header) => keySet(header);
    }
    case 'devKey':
      return rsaPublicKey(loadOrCreateDevKeyPair().publicKeyPem);
  }
}

function viewerFrom(payload: Readonly<Record<string, unknown>>): Viewer {
  const userId = payload.sub;
  if (typeof userId !== 'string' || userId.length === 0 || userId.length > MAX_USER_ID_LENGTH) {
    throw unauthenticated('The token has no usable subject.');
  }
  // jwtVerify's requiredClaims guarantees a numeric `exp`; one past the end of time is refused.
  const expiresAt = new Date((payload.exp as number) * 1_000);
  if (!Number.isFinite(expiresAt.getTime())) {
    throw unauthenticated('The token expires too far in the future.');
  }
  const roles = payload.roles;
  return {
    userId,
    isAdmin: Array.isArray(roles) && roles.includes('admin'),
    expiresAt,
  };
}

/**
 * Builds the verifier for RS256 bearer tokens: signature from the configured public key or
 * JWKS, `exp` required, `nbf` when present, `iss`/`aud` when configured. Any failure is UNAUTHENTICATED.
 * With a token cache (`cache.maxEntries` > 0), a token verified once is not verified again
 * until it expires (see {@link cachingVerifier}).
 */
export async function createTokenVerifier(
  auth: Config['auth'],
  cache: Config['tokenCache'] = { maxEntries: 0, maxAgeSeconds: 0 },
): Promise<TokenVerifier> {
  const key = verificationKey(auth);
  const checks = { issuer: auth.issuer, audience: auth.audience };
  const verify: TokenVerifier = async (token) => {
    let payload: Record<string, unknown>;
    try {
      // `exp` is required: a token without it would be valid forever (and keep a websocket open forever).
      payload = await verifyRs256Jwt(token, key, checks);
    } catch {
      throw unauthenticated('The bearer token is invalid or expired.');
    }
    return viewerFrom(payload);
  };
  return cache.maxEntries > 0 ? cachingVerifier(verify, cache) : verify;
}

interface VerifiedToken {
  readonly viewer: Viewer;
  /** Epoch milliseconds: the token's `exp`, or the entry's maximum age if that comes first. */
  readonly validUntil: number;
}

/**
 * `verify` with a bounded memory of the tokens it accepted: the same token again, before it
 * expires, gets the same {@link Viewer} without checking its RS256 signature a second time.
 *
 * - Keyed by the SHA-256 of the token, never the token itself (a heap dump holds no usable
 *   bearer tokens); two different tokens never share an entry.
 * - An entry is good until the token's `exp` (never beyond: the verifier refuses a token from
 *   that second on) or `maxAgeSeconds` after it was verified, whichever comes first; the
 *   maximum age bounds how long a key removed from the JWKS keeps its tokens working.
 * - Only accepted tokens are remembered: a refused one is verified (and refused) every time.
 * - At most `maxEntries` entries, the least recently used dropped first.
 */
export function cachingVerifier(
  verify: TokenVerifier,
  options: { readonly maxEntries: number; readonly maxAgeSeconds: number },
  clock: ProcessClock = SYSTEM_CLOCK,
): TokenVerifier {
  // A Map iterates in insertion order: re-inserting on every hit keeps the oldest use first.
  const entries = new Map<string, VerifiedToken>();
  const maxAgeMilliseconds = options.maxAgeSeconds * 1_000;
  return async (token) => {
    const key = createHash('sha256').update(token).digest('base64');
    const cached = entries.get(key);
    if (cached) {
      entries.delete(key);
      if (clock.now() < cached.validUntil) {
        entries.set(key, cached);
        return cached.viewer;
      }
    }
    const viewer = await verify(token);
    const validUntil = Math.min(viewer.expiresAt.getTime(), clock.now() + maxAgeMilliseconds);
    if (clock.now() < validUntil) {
      setWithin(entries, key, { viewer, validUntil }, options.maxEntries);
    }
    return viewer;
  };
}

/** Extracts the token from an `Authorization: Bearer <token>` value; undefined when absent. */
export function bearerToken(header: string | undefined | null): string | undefined {
  if (!header) {
    return undefined;
  }
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) {
    throw unauthenticated('The Authorization header must be "Bearer <token>".');
  }
  return match[1];
}
