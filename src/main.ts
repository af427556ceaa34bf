import 'reflect-metadata';
import { startApplication } from './app';
import { loadConfig } from './config/config';
import { ConfigError } from './config/environment-values';
import { createLogger } from './infra/logger';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);
  const application = await startApplication(config, logger);
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'Shutting down');
    application.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'Unclean shutdown');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
