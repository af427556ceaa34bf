import { connect } from 'amqplib';
import { loadConfig } from './config/config';
import { replayDeadLetters } from './events/dead-letter-replay';
import { topologyNames } from './events/topology';

/** `npm run dead-letters:replay`: puts dead-lettered messages back on their queues. */
async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await connect(config.amqp.url);
  try {
    const moved = await replayDeadLetters(
      connection,
      topologyNames(config.amqp.prefix, config.booking.holdSeconds),
    );
    console.log(`Replayed ${moved} dead-lettered message(s)`);
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
