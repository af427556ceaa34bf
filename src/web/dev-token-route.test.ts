import { generateKeyPair } from '../infra/dev-keys';
import { createTokenVerifier } from '../infra/auth';
import { loadConfig } from '../config/config';
import { devTokenIssuerFor } from './dev-token-route';

const auth = (env: Record<string, string>) => loadConfig({ NODE_ENV: 'test', ...env }).auth;

describe('dev token issuer', () => {
  it('exists only with the built-in dev key', () => {
    expect(devTokenIssuerFor(auth({}))).toBeDefined();
    expect(devTokenIssuerFor(auth({ NODE_ENV: 'development' }))).toBeDefined();
    expect(devTokenIssuerFor(auth({ AUTH_PUBLIC_KEY: generateKeyPair().publicKeyPem }))).toBeUndefined();
    expect(
      devTokenIssuerFor(auth({ AUTH_JWKS_URL: 'https://id.example/.well-known/jwks.json' })),
    ).toBeUndefined();
    // Outside development and test there is no dev key at all: the configuration refuses to start.
    expect(() => auth({ NODE_ENV: 'production' })).toThrow(/AUTH_PUBLIC_KEY/);
    expect(() => auth({ NODE_ENV: 'staging' })).toThrow(/AUTH_PUBLIC_KEY/);
  });

  it('mints tokens the service accepts, with the configured issuer and audience', async () => {
    const config = auth({ AUTH_ISSUER: 'https://id.example', AUTH_AUDIENCE: 'poltrona' });
    const issue = devTokenIssuerFor(config);
    const verify = await createTokenVerifier(config);
    await expect(verify(await issue!('alice', false))).resolves.toMatchObject({
      userId: 'alice',
      isAdmin: false,
    });
    await expect(verify(await issue!('root', true))).resolves.toMatchObject({
      userId: 'root',
      isAdmin: true,
    });
  });
});
