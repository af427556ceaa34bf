/**
 * Starts tracing (when the `OTEL_*` variables ask for it) as a side effect of being imported:
 * the entry point imports it before anything else, so the instrumentations are in place before
 * `pg`, `ioredis`, `amqplib`, `express` and `graphql` are first required.
 */
import { startTracing } from './tracing';

startTracing();
