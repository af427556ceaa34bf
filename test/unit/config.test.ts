import { ConfigError, loadConfig } from '../../src/config';

describe('configuration', () => {
  it('has working defaults for a development machine', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 4000,
      role: 'all',
      database: { url: 'postgres://postgres@127.0.0.1:5432/poltrona' },
      redis: { url: 'redis://127.0.0.1:6379' },
      amqp: { url: 'amqp://guest:guest@127.0.0.1:5672', prefix: 'poltrona' },
      booking: { holdSeconds: 30 },
      auth: { key: { kind: 'devKey' } },
      corsOrigins: [],
    });
  });

  it.each([
    ['PORT', 'http'],
    ['PORT', '65536'],
    ['HOLD_SECONDS', '0'],
    ['HOLD_SECONDS', '1.5'],
    ['ROLE', 'admin'],
    ['DATABASE_URL', 'not a url'],
    ['REDIS_URL', 'http://127.0.0.1:6379'],
    ['AMQP_URL', 'redis://x'],
    ['AMQP_PREFIX', 'has spaces'],
    ['AUTH_PUBLIC_KEY', 'not a pem'],
    ['CORS_ORIGINS', 'https://ok.example, nonsense'],
    ['LOG_LEVEL', 'loud'],
  ])('refuses %s=%s, naming the variable', (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });

  it('requires a real key in production', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow('AUTH_PUBLIC_KEY');
    expect(
      loadConfig({ NODE_ENV: 'production', AUTH_JWKS_URL: 'https://id.example/jwks.json' }).auth.key,
    ).toEqual({
      kind: 'jwks',
      url: 'https://id.example/jwks.json',
    });
  });

  it('accepts a PEM with escaped newlines and normalises CORS origins', () => {
    const pem = '-----BEGIN PUBLIC KEY-----\\nABC\\n-----END PUBLIC KEY-----';
    const config = loadConfig({
      AUTH_PUBLIC_KEY: pem,
      CORS_ORIGINS: 'https://a.example/, http://b.example:8080',
    });
    expect(config.auth.key).toEqual({
      kind: 'publicKey',
      pem: '-----BEGIN PUBLIC KEY-----\nABC\n-----END PUBLIC KEY-----',
    });
    expect(config.corsOrigins).toEqual(['https://a.example', 'http://b.example:8080']);
  });
});
