import { KeyObject, verify as verifySignature, type webcrypto } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;

/** The header of a compact JWS, as sent. */
export type JwsHeader = Readonly<Record<string, unknown>>;

/**
 * The key that checks a token's signature: one fixed key, or one picked by the token's header
 * (a JWKS: by `kid`). A WebCrypto key (what jose's JWKS hands out) is converted once.
 */
export type Rs256Key = KeyObject | ((header: JwsHeader) => Promise<KeyObject | CryptoKey>);

/** What an accepted token's claims must also satisfy. */
export interface Rs256Checks {
  /** When set, `iss` must equal it. */
  readonly issuer?: string;
  /** When set, `aud` (a string or an array of them) must name it. */
  readonly audience?: string;
  /** Epoch milliseconds; defaults to `Date.now()`. */
  readonly now?: number;
}

/** Why a token was refused (the message is for logs; callers answer UNAUTHENTICATED). */
class TokenRejected extends Error {}

// Unpadded, or with its correct padding (jose's decoder takes both).
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true });
const MIN_RSA_BITS = 2_048;
const converted = new WeakMap<CryptoKey, KeyObject>();

function reject(message: string): never {
  throw new TokenRejected(message);
}

function decodePart(part: string, name: string): Buffer {
  // Buffer's decoder skips characters outside the alphabet: check them first, as jose does.
  const wellFormed = part.includes('=') ? part.length % 4 === 0 : part.length % 4 !== 1;
  if (!BASE64URL.test(part) || !wellFormed) {
    reject(`${name} is not base64url`);
  }
  return Buffer.from(part, 'base64url');
}

function plainObject(bytes: Buffer, name: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(STRICT_UTF8.decode(bytes));
  } catch {
    reject(`${name} is not JSON`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    reject(`${name} is not a JSON object`);
  }
  return parsed as Record<string, unknown>;
}

function numericDate(claims: Record<string, unknown>, claim: string): number | undefined {
  const value = claims[claim];
  if (value !== undefined && typeof value !== 'number') {
    reject(`"${claim}" is not a number`);
  }
  return value;
}

async function keyFor(key: Rs256Key, header: JwsHeader): Promise<KeyObject> {
  if (key instanceof KeyObject) {
    return key;
  }
  const found = await key(header);
  if (found instanceof KeyObject) {
    return found;
  }
  // As jose: a WebCrypto key must be one made for this algorithm, and for verifying.
  if (found.algorithm.name !== 'RSASSA-PKCS1-v1_5' || !found.usages.includes('verify')) {
    reject('the key is not an RSASSA-PKCS1-v1_5 verification key');
  }
  let keyObject = converted.get(found);
  if (!keyObject) {
    keyObject = KeyObject.from(found);
    converted.set(found, keyObject);
  }
  return keyObject;
}

/**
 * Verifies a compact RS256 JWT with `node:crypto` and returns its claims: the same checks as
 * jose's `jwtVerify(token, key, { algorithms: ['RS256'], requiredClaims: ['exp'], issuer,
 * audience })`, but one synchronous native RSA verification instead of a WebCrypto job (about
 * a quarter of the CPU: it is what every first-time token pays, e.g. each loser of a stampede).
 *
 * Refused (TokenRejected): not three base64url parts; a header or claims set that is not a
 * JSON object; `alg` other than RS256; any `crit` header (jose knows only `b64`, which a JWT
 * may not turn off); a key that is not RSA of at least 2,048 bits; a bad signature; `exp`
 * missing, not a number or not after now; `nbf` or `iat` not a number; `nbf` after now;
 * `iss` / `aud` not matching when configured. Times are whole seconds, no tolerance.
 */
export async function verifyRs256Jwt(
  token: string,
  key: Rs256Key,
  checks: Rs256Checks = {},
): Promise<Record<string, unknown>> {
  const parts = token.split('.');
  if (parts.length !== 3) {
    reject('not a compact JWS');
  }
  const [encodedHeader, encodedClaims, encodedSignature] = parts;
  const header = plainObject(decodePart(encodedHeader, 'header'), 'header');
  if (header.alg !== 'RS256') {
    reject('alg is not RS256');
  }
  if (header.crit !== undefined) {
    reject('crit headers are not supported');
  }
  const signature = decodePart(encodedSignature, 'signature');
  const claimsBytes = decodePart(encodedClaims, 'claims');
  const publicKey = await keyFor(key, header);
  const bits = publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (publicKey.asymmetricKeyType !== 'rsa' || bits < MIN_RSA_BITS) {
    reject('the key is not an RSA key of 2048 bits or more');
  }
  // PKCS#1 v1.5 is node's default padding for RSA keys: RSASSA-PKCS1-v1_5 with SHA-256 = RS256.
  const signingInput = Buffer.from(`${encodedHeader}.${encodedClaims}`, 'ascii');
  if (!verifySignature('sha256', signingInput, publicKey, signature)) {
    reject('bad signature');
  }
  const claims = plainObject(claimsBytes, 'claims');
  if (!Object.hasOwn(claims, 'exp')) {
    reject('"exp" is missing');
  }
  const { issuer, audience } = checks;
  if (issuer !== undefined && claims.iss !== issuer) {
    reject('unexpected "iss"');
  }
  if (audience !== undefined) {
    const { aud } = claims;
    if (!(aud === audience || (Array.isArray(aud) && aud.includes(audience)))) {
      reject('unexpected "aud"');
    }
  }
  const now = Math.floor((checks.now ?? Date.now()) / 1_000);
  numericDate(claims, 'iat');
  const notBefore = numericDate(claims, 'nbf');
  if (notBefore !== undefined && notBefore > now) {
    reject('not yet valid');
  }
  const expires = numericDate(claims, 'exp') as number;
  if (expires <= now) {
    reject('expired');
  }
  return claims;
}
