// First: tracing must patch pg, ioredis, amqplib, express and graphql before they load.
import './infra/start-tracing';
import 'reflect-metadata';
import { startApplication } from './app';
import { loadConfig } from './config/config';
import { ConfigError } from './config/environment-values';
import { createLogger, type Logger } from './infra/logger';
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
    void application
      .stop()
      .then(
        () => true,
        (error: unknown) => {
          logger.error({ err: error }, 'Unclean shutdown');
          return false;
        },
      )
      // The spans of the last requests are still in the batch: export them before leaving,
      // also after an unclean stop (they may tell why).
      .then(async (clean) => {
        await flushTraces(logger);
        process.exit(clean ? 0 : 1);
      });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

/**
 * The longest wait for the last spans on the way out. Docker gives a container 10 s between
 * SIGTERM and SIGKILL, the application's own stop comes first, and an OTLP exporter that
 * cannot reach its collector retries for longer than that.
 */
const TRACE_FLUSH_MILLISECONDS = 2_000;

/**
 * Stops tracing, waiting at most {@link TRACE_FLUSH_MILLISECONDS}. Never fails: spans that
 * could not be exported are lost, which is no reason to exit unclean.
 */
async function flushTraces(logger: Logger): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed out'>((resolve) => {
    timer = setTimeout(() => resolve('timed out'), TRACE_FLUSH_MILLISECONDS);
    // The wait must not be what keeps the process alive.
    timer.unref();
  });
  try {
    const outcome = await Promise.race([stopTracing().then(() => 'stopped' as const), timedOut]);
    if (outcome === 'timed out') {
      logger.warn(
        { milliseconds: TRACE_FLUSH_MILLISECONDS },
        'Tracing did not stop in time; the last spans may be lost',
      );
    }
  } catch (error) {
    logger.warn({ err: error }, 'Tracing did not stop cleanly; the last spans may be lost');
  } finally {
    clearTimeout(timer);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
