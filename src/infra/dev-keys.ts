import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { importPKCS8, SignJWT } from 'jose';

/** An RS256 key pair in PEM form. */
export interface KeyPairPem {
  readonly privateKeyPem: string;
  readonly publicKeyPem: string;
}

/** Where the development key pair lives: `.dev-keys/` in the working directory (git-ignored). */
export const DEV_KEYS_DIRECTORY = join(process.cwd(), '.dev-keys');

/** A fresh RS256 key pair. */
export function generateKeyPair(): KeyPairPem {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { privateKeyPem: privateKey, publicKeyPem: publicKey };
}

/**
 * The development key pair, created on first use. Only for machines where no real key is
 * configured and NODE_ENV is not production (the config refuses that in production).
 */
export function loadOrCreateDevKeyPair(directory: string = DEV_KEYS_DIRECTORY): KeyPairPem {
  const privatePath = join(directory, 'private.pem');
  const publicPath = join(directory, 'public.pem');
  if (!existsSync(privatePath) || !existsSync(publicPath)) {
    const pair = generateKeyPair();
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    writeFileSync(privatePath, pair.privateKeyPem, { mode: 0o600 });
    writeFileSync(publicPath, pair.publicKeyPem);
    return pair;
  }
  return { privateKeyPem: readFileSync(privatePath, 'utf8'), publicKeyPem: readFileSync(publicPath, 'utf8') };
}

/** What a signed token says. */
export interface TokenClaims {
  readonly userId: string;
  readonly admin?: boolean;
  readonly expiresIn?: string | number;
  readonly issuer?: string;
  readonly audience?: string;
  readonly keyId?: string;
}

/** Signs an RS256 bearer token, as an identity provider would. */
export async function signToken(privateKeyPem: string, claims: TokenClaims): Promise<string> {
  const key = await importPKCS8(privateKeyPem, 'RS256');
  let jwt = new SignJWT({ roles: claims.admin ? ['admin'] : [] })
    .setProtectedHeader({ alg: 'RS256', typ: 'JWT', ...(claims.keyId ? { kid: claims.keyId } : {}) })
    .setSubject(claims.userId)
    .setIssuedAt()
    .setExpirationTime(claims.expiresIn ?? '12h');
  if (claims.issuer) {
    jwt = jwt.setIssuer(claims.issuer);
  }
  if (claims.audience) {
    jwt = jwt.setAudience(claims.audience);
  }
  return jwt.sign(key);
}
