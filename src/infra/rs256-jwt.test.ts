import { generateKeyPairSync, sign } from 'node:crypto';
import { jwtVerify } from 'jose';
import { verifyRs256Jwt } from './rs256-jwt';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const NOW_SECONDS = NOW / 1_000;

const pair = generateKeyPairSync('rsa', { modulusLength: 2_048 });
const otherPair = generateKeyPairSync('rsa', { modulusLength: 2_048 });
const smallPair = generateKeyPairSync('rsa', { modulusLength: 1_024 });
const ecPair = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const encode = (part: string | object) =>
  Buffer.from(typeof part === 'string' ? part : JSON.stringify(part)).toString('base64url');

/** A compact JWS signed RS256 over whatever header and claims it is given, however odd. */
function signed(header: string | object, claims: string | object, privateKey = pair.privateKey): string {
  const input = `${encode(header)}.${encode(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

const RS256 = { alg: 'RS256', typ: 'JWT' };
const good = { sub: 'user-1', exp: NOW_SECONDS + 60, roles: ['admin'] };
const valid = signed(RS256, good);
const [validHeader, validClaims, validSignature] = valid.split('.');

/** Tokens and the option sets they are judged with, each one a way a token can go wrong. */
const CASES: [string, string][] = [
  ['valid', valid],
  [
    'valid, with nbf and iat in the past',
    signed(RS256, { ...good, nbf: NOW_SECONDS - 5, iat: NOW_SECONDS - 5 }),
  ],
  ['nbf now', signed(RS256, { ...good, nbf: NOW_SECONDS })],
  ['nbf in the future', signed(RS256, { ...good, nbf: NOW_SECONDS + 1 })],
  ['nbf not a number', signed(RS256, { ...good, nbf: String(NOW_SECONDS) })],
  ['iat not a number', signed(RS256, { ...good, iat: 'yesterday' })],
  ['exp missing', signed(RS256, { sub: 'user-1' })],
  ['exp now', signed(RS256, { ...good, exp: NOW_SECONDS })],
  ['exp just after now', signed(RS256, { ...good, exp: NOW_SECONDS + 1 })],
  ['exp not a number', signed(RS256, { ...good, exp: String(NOW_SECONDS + 60) })],
  ['exp null', signed(RS256, { ...good, exp: null })],
  ['alg none', `${encode({ alg: 'none' })}.${validClaims}.`],
  ['alg none, signature kept', `${encode({ alg: 'none' })}.${validClaims}.${validSignature}`],
  ['alg HS256', signed({ alg: 'HS256' }, good)],
  ['alg RS512', signed({ alg: 'RS512' }, good)],
  ['alg missing', signed({ typ: 'JWT' }, good)],
  ['crit b64', signed({ alg: 'RS256', crit: ['b64'], b64: false }, good)],
  ['crit unknown', signed({ alg: 'RS256', crit: ['exp'] }, good)],
  ['another key', signed(RS256, good, otherPair.privateKey)],
  ['claims changed after signing', `${validHeader}.${encode({ ...good, sub: 'admin' })}.${validSignature}`],
  ['header changed after signing', `${encode({ alg: 'RS256', kid: 'x' })}.${validClaims}.${validSignature}`],
  ['signature truncated', `${validHeader}.${validClaims}.${validSignature.slice(0, -4)}`],
  ['signature empty', `${validHeader}.${validClaims}.`],
  [
    'signature with a stray character',
    `${validHeader}.${validClaims}.${validSignature.slice(0, 10)}*${validSignature.slice(10)}`,
  ],
  [
    'claims with a stray character',
    `${validHeader}.${validClaims.slice(0, 5)}!${validClaims.slice(5)}.${validSignature}`,
  ],
  ['padded signature', `${valid}==`],
  ['wrongly padded signature', `${valid}=`],
  ['padding inside the signature', `${validHeader}.${validClaims}.==${validSignature}`],
  ['two parts', `${validHeader}.${validClaims}`],
  ['four parts', `${valid}.${validSignature}`],
  ['empty', ''],
  ['claims an array', signed(RS256, [good])],
  ['claims a number', signed(RS256, '42')],
  ['claims not JSON', signed(RS256, 'not json')],
  [
    'claims not UTF-8',
    (() => {
      const input = `${validHeader}.${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}`;
      return `${input}.${sign('sha256', Buffer.from(input), pair.privateKey).toString('base64url')}`;
    })(),
  ],
  ['header an array', signed('[1]', good)],
  ['header not JSON', signed('{alg', good)],
  ['issuer and audience right', signed(RS256, { ...good, iss: 'https://issuer', aud: 'poltrona' })],
  ['audience among several', signed(RS256, { ...good, iss: 'https://issuer', aud: ['other', 'poltrona'] })],
  ['issuer wrong', signed(RS256, { ...good, iss: 'https://evil', aud: 'poltrona' })],
  ['issuer missing', signed(RS256, { ...good, aud: 'poltrona' })],
  ['audience wrong', signed(RS256, { ...good, iss: 'https://issuer', aud: 'other' })],
  ['audience missing', signed(RS256, { ...good, iss: 'https://issuer' })],
  ['audience an object', signed(RS256, { ...good, iss: 'https://issuer', aud: { poltrona: true } })],
];

const OPTION_SETS: [string, { issuer?: string; audience?: string }][] = [
  ['no issuer or audience', {}],
  ['issuer and audience', { issuer: 'https://issuer', audience: 'poltrona' }],
];

async function joseVerdict(token: string, options: { issuer?: string; audience?: string }) {
  try {
    const { payload } = await jwtVerify(token, pair.publicKey, {
      algorithms: ['RS256'],
      requiredClaims: ['exp'],
      currentDate: new Date(NOW),
      ...options,
    });
    return { accepted: true, payload };
  } catch {
    return { accepted: false };
  }
}

async function ourVerdict(token: string, options: { issuer?: string; audience?: string }) {
  try {
    const payload = await verifyRs256Jwt(token, pair.publicKey, { ...options, now: NOW });
    return { accepted: true, payload };
  } catch {
    return { accepted: false };
  }
}

describe('verifyRs256Jwt', () => {
  describe.each(OPTION_SETS)('judges every token as jose does, with %s', (_name, options) => {
    it.each(CASES)('%s', async (_case, token) => {
      expect(await ourVerdict(token, options)).toEqual(await joseVerdict(token, options));
    });
  });

  it('accepts a valid token and returns its claims', async () => {
    await expect(verifyRs256Jwt(valid, pair.publicKey, { now: NOW })).resolves.toEqual(good);
  });

  it('refuses keys that are not RSA of 2048 bits or more, as jose does', async () => {
    const small = signed(RS256, good, smallPair.privateKey);
    await expect(verifyRs256Jwt(small, smallPair.publicKey, { now: NOW })).rejects.toThrow(/RSA key/);
    await expect(jwtVerify(small, smallPair.publicKey, { currentDate: new Date(NOW) })).rejects.toThrow();
    await expect(verifyRs256Jwt(valid, ecPair.publicKey, { now: NOW })).rejects.toThrow(/RSA key/);
  });

  it('takes the key from a resolver given the header, WebCrypto keys included', async () => {
    const cryptoKey = await crypto.subtle.importKey(
      'spki',
      pair.publicKey.export({ type: 'spki', format: 'der' }),
      { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      true,
      ['verify'],
    );
    const headers: unknown[] = [];
    const resolver = async (header: unknown) => {
      headers.push(header);
      return cryptoKey;
    };
    await expect(verifyRs256Jwt(valid, resolver, { now: NOW })).resolves.toEqual(good);
    await expect(verifyRs256Jwt(valid, resolver, { now: NOW })).resolves.toEqual(good);
    expect(headers).toEqual([RS256, RS256]);
  });
});
