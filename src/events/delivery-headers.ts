/**
 * AMQP headers shared by the consumers (which write them) and the dead-letter replay (which
 * reads and resets them). They live with the events, below the workers, so that `events/`
 * never imports `workers/`.
 */

/** Header counting deliveries of a message across retries. */
export const ATTEMPTS_HEADER = 'x-attempts';
/** Why a dead-lettered message failed (its last error). */
export const FAILURE_REASON_HEADER = 'x-failure-reason';
/** The queue a dead-lettered message failed in, where a replay sends it back. */
export const FAILED_QUEUE_HEADER = 'x-failed-queue';
