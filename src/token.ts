import { parseArgs } from 'node:util';
import { loadConfig } from './config/config';
import { loadOrCreateDevKeyPair, signToken } from './infra/dev-keys';

/** `npm run token -- --user <id> [--admin] [--expires 12h]`: a token signed with the dev key. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      user: { type: 'string' },
      admin: { type: 'boolean', default: false },
      expires: { type: 'string', default: '12h' },
    },
  });
  if (!values.user) {
    throw new Error('Usage: npm run token -- --user <id> [--admin] [--expires 12h]');
  }
  const config = loadConfig();
  if (config.auth.key.kind !== 'devKey') {
    throw new Error(
      'A real key is configured (AUTH_PUBLIC_KEY or AUTH_JWKS_URL): ask its issuer for tokens.',
    );
  }
  const { privateKeyPem } = loadOrCreateDevKeyPair();
  const token = await signToken(privateKeyPem, {
    userId: values.user,
    admin: values.admin,
    expiresIn: values.expires,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
