import { DeadlockException } from '@mikro-orm/core';
import { type EntityManager } from '@mikro-orm/postgresql';
import { OutboxEvent } from '../entities/outbox-event.entity';
import { type BookingEvent, type BookingEventMap, type BookingTopic } from './booking-events';

/** Told about the events of each transaction once it has committed, never before. */
export type CommittedEventsListener = (events: readonly BookingEvent[]) => void;

/**
 * Records the events of one transaction: each becomes an outbox row in that same
 * transaction, so an event exists if and only if its change committed.
 */
export class EventRecorder {
  private readonly recorded: BookingEvent[] = [];

  constructor(private readonly em: EntityManager) {}

  record<Topic extends BookingTopic>(topic: Topic, payload: BookingEventMap[Topic]): void {
    this.recorded.push({ topic, payload } as BookingEvent);
    this.em.persist(this.em.create(OutboxEvent, { topic, payload }));
  }

  get events(): readonly BookingEvent[] {
    return this.recorded;
  }
}

// Lock order is fixed (reservation rows, then seats in id order), so deadlocks need unusual
// interleavings; when PostgreSQL still breaks one, the victim simply runs again.
const MAX_ATTEMPTS = 3;

/** Runs booking transactions: outbox events, deadlock retries, after-commit notification. */
export class BookingTransactions {
  constructor(private readonly onCommitted: CommittedEventsListener) {}

  /**
   * Runs `work` in one transaction (flushing the unit of work before commit), retrying it
   * from scratch if PostgreSQL picked it as a deadlock victim. A throw rolls everything back,
   * outbox rows included.
   */
  async run<Result>(
    em: EntityManager,
    work: (tx: EntityManager, events: EventRecorder) => Promise<Result>,
  ): Promise<Result> {
    for (let attempt = 1; ; attempt += 1) {
      let recorder: EventRecorder | undefined;
      try {
        const result = await em.transactional(async (tx) => {
          recorder = new EventRecorder(tx);
          return work(tx, recorder);
        });
        if (recorder && recorder.events.length > 0) {
          this.onCommitted(recorder.events);
        }
        return result;
      } catch (error) {
        if (error instanceof DeadlockException && attempt < MAX_ATTEMPTS) {
          continue;
        }
        throw error;
      }
    }
  }
}
