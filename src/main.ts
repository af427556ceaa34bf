// First: tracing must patch pg, ioredis, amqplib, express and graphql before they load.
import './infra/start-tracing';
import 'reflect-metadata';
import { startApplication } from './app';
import { loadConfig } from './config/config';
import { ConfigError } from './config/environment-values';
import { createLogger } from './infra/logger';
import { isTracing, stopTracing } from './infra/tracing';

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
  if (isTracing()) {
    logger.info('Tracing on: spans are exported as the OTEL_* variables say');
  }
  const application = await startApplication(config, logger);
  const shutdown = (signal: string) => {
    logger.info({ signal }, 'Shutting down');
    application
      .stop()
      // The spans of the last requests are still in the batch: export them before leaving.
      .then(() => stopTracing())
      .then(
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
