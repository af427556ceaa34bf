import { createRemoteJWKSet, importSPKI, type JWTPayload, jwtVerify, type CryptoKey } from 'jose';
import { type Config } from '../config/config';
import { unauthenticated } from '../errors/domain-error';
import { loadOrCreateDevKeyPair } from './dev-keys';

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

type VerificationKey = CryptoKey | ReturnType<typeof createRemoteJWKSet>;

const MAX_USER_ID_LENGTH = 200;

async function verificationKey(auth: Config['auth']): Promise<VerificationKey> {
  switch (auth.key.kind) {
    case 'publicKey':
      return importSPKI(auth.key.pem, 'RS256');
    case 'jwks':
      // An unknown `kid` triggers a refetch (key rotation needs no restart), at most once per cooldown.
      return createRemoteJWKSet(new URL(auth.key.url), {
        cooldownDuration: auth.jwksCooldownSeconds * 1_000,
        timeoutDuration: 5_000,
      });
    case 'devKey':
      return importSPKI(loadOrCreateDevKeyPair().publicKeyPem, 'RS256');
  }
}

function viewerFrom(payload: JWTPayload): Viewer {
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
 */
export async function createTokenVerifier(auth: Config['auth']): Promise<TokenVerifier> {
  const key = await verificationKey(auth);
  return async (token) => {
    let payload: JWTPayload;
    try {
      const result = await jwtVerify(token, key as CryptoKey, {
        algorithms: ['RS256'],
        issuer: auth.issuer,
        audience: auth.audience,
        // A token without `exp` would be valid forever (and keep a websocket open forever).
        requiredClaims: ['exp'],
      });
      payload = result.payload;
    } catch {
      throw unauthenticated('The bearer token is invalid or expired.');
    }
    return viewerFrom(payload);
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
