import { type DestinationStream, pino, type Logger } from 'pino';

/**
 * The process logger: one JSON object per line on stdout. Never given tokens or secrets;
 * `authorization` headers are redacted should one slip into a logged object.
 */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'poltrona' },
    redact: { paths: ['authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination) : pino(options);
}

export type { Logger };
