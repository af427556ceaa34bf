import { type EntityManager } from '@mikro-orm/postgresql';
import { type Clock } from '../infra/clock';
import { type SeatLockGate } from '../infra/seat-locks';
import { type SessionFacts } from '../repositories/session.repository';
import { type BookingTransactions } from './booking-transaction';
import { type HoldBatcher } from './reserve/hold-batcher';

/** Told how reserves end, for metrics. */
export interface ReserveObserver {
  /** `held`, or the error code. */
  reserved(outcome: string): void;
}

/** Reads the immutable facts of a session (possibly from a cache). */
export type SessionFactsReader = (em: EntityManager, sessionId: string) => Promise<SessionFacts | null>;

/**
 * What the reservation use cases share, built once by the composition root. Repositories are
 * not here: each use case takes them from the entity manager it runs on (`repositoriesOf`).
 */
export interface BookingDependencies {
  readonly transactions: BookingTransactions;
  readonly seatLocks: SeatLockGate;
  /** Judges holds and session starts; `DATABASE_CLOCK` in production. */
  readonly clock: Clock;
  /** How long a new hold lasts, and how far an extension moves its end from now. */
  readonly holdSeconds: number;
  /** The longest a hold may last in all, from its reservation's `createdAt`, extensions included. */
  readonly holdMaxSeconds: number;
  /** Defaults to reading the session through its repository. */
  readonly sessionFacts?: SessionFactsReader;
  readonly observer?: ReserveObserver;
  /** Group commit of holds; absent, each hold runs its own transaction. */
  readonly holdBatcher?: HoldBatcher;
}
