import { type SeatStatusChangedEvent } from '../booking/booking-events';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { type Logger } from '../infra/logger';
import { type ReplayWindow, type SeatChangeLog } from '../repositories/seat-change-log';
import { type LivePubSub } from './live-pubsub';

/** Where the feed reads the change log and the sessions' map versions (a fresh fork each time). */
export interface SeatChangeStore {
  currentVersions(sessionIds: readonly string[]): Promise<Map<string, number>>;
  replayWindow(sessionId: string): Promise<ReplayWindow | null>;
  /** The stored changes after `afterVersion`, in order, at most `limit`. */
  findAfter(sessionId: string, afterVersion: number, limit: number): Promise<SeatStatusChangedEvent[]>;
}

/** The change log as the feed reads it (payloads are the `seat.status-changed` events as written). */
export function seatChangeStoreOf(log: SeatChangeLog): SeatChangeStore {
  return {
    currentVersions: (sessionIds) => log.currentVersions(sessionIds),
    replayWindow: (sessionId) => log.replayWindow(sessionId),
    findAfter: async (sessionId, afterVersion, limit) =>
      (await log.findAfter(sessionId, afterVersion, limit)) as SeatStatusChangedEvent[],
  };
}

/** A session this process has subscribers of: the last map version it delivered to them. */
interface Watch {
  subscribers: number;
  last: number;
  /** Deliveries of this session, one after the other. */
  chain: Promise<void>;
}

// Changes read from the log per statement while replaying or filling a gap.
const REPLAY_PAGE = 500;

/**
 * One process's live seat maps: every committed seat change reaches the subscribers of its
 * session in map-version order with no gap and no duplicate. The live stream (the process's
 * broker queue) may lose events (a broker outage longer than the queue's life, a restart) or
 * repeat them (at-least-once): for each session with subscribers the feed remembers the last
 * version it delivered, fills any gap from the change log before delivering a later change,
 * drops what it already delivered, and after each broker (re)connection brings every such
 * session up to its current version ({@link catchUp}).
 */
export class SeatMapFeed {
  private readonly watched = new Map<string, Watch>();

  constructor(
    private readonly pubSub: LivePubSub,
    private readonly store: () => SeatChangeStore,
    private readonly logger: Logger,
  ) {}

  /** A committed seat change, from the live stream. */
  deliver(event: SeatStatusChangedEvent): void {
    const watch = this.watched.get(event.sessionId);
    // Nobody here listens, or an event from before map versions: nothing to order.
    if (!watch || !event.mapVersion) {
      this.publish(event);
      return;
    }
    this.enqueue(event.sessionId, watch, () => this.advance(event.sessionId, watch, event.mapVersion, event));
  }

  /** Brings every session with subscribers up to its current map version from the log. */
  async catchUp(): Promise<void> {
    if (this.watched.size === 0) {
      return;
    }
    const versions = await this.store().currentVersions([...this.watched.keys()]);
    for (const [sessionId, version] of versions) {
      const watch = this.watched.get(sessionId);
      if (watch) {
        this.enqueue(sessionId, watch, () => this.advance(sessionId, watch, version));
      }
    }
  }

  /**
   * The changes of one session for one subscriber: live from now on, or, with
   * `afterMapVersion`, every stored change after it in order and then live, with no gap and no
   * duplicate across the hand-over.
   *
   * @throws DomainError RESYNC_REQUIRED when the changes after `afterMapVersion` are no longer
   *   kept, or it is above the session's current version (checked before anything is sent).
   */
  async subscribe(
    sessionId: string,
    afterMapVersion?: number | null,
  ): Promise<AsyncGenerator<SeatStatusChangedEvent>> {
    await this.watch(sessionId);
    const live = this.pubSub.subscribe('seat-status-changed', sessionId)[Symbol.asyncIterator]();
    const buffered: SeatStatusChangedEvent[] = [];
    // Wakes the subscriber's generator when a change arrives or the stream ends.
    const signal: { wake: (() => void) | null } = { wake: null };
    let ended = false;
    // Pull at once: from here on, changes published for this session wait in `buffered`.
    const pump = (async () => {
      for (;;) {
        const next = await live.next();
        if (next.done) {
          break;
        }
        buffered.push(next.value);
        signal.wake?.();
      }
      ended = true;
      signal.wake?.();
    })();
    const leave = async () => {
      ended = true;
      signal.wake?.();
      await live.return?.(undefined);
      await pump;
      this.unwatch(sessionId);
    };
    let last = Number.NEGATIVE_INFINITY;
    let replay: SeatStatusChangedEvent[] = [];
    if (afterMapVersion !== undefined && afterMapVersion !== null) {
      try {
        replay = await this.replayFrom(sessionId, afterMapVersion);
      } catch (error) {
        await leave();
        throw error;
      }
      last = afterMapVersion;
    }
    const store = this.store;
    async function* changes(): AsyncGenerator<SeatStatusChangedEvent> {
      try {
        for (;;) {
          for (const change of replay) {
            if (change.mapVersion > last) {
              last = change.mapVersion;
              yield change;
            }
          }
          if (replay.length === REPLAY_PAGE) {
            replay = await readAfter(store(), sessionId, last);
            continue;
          }
          break;
        }
        while (!ended || buffered.length > 0) {
          const change = buffered.shift();
          if (!change) {
            await new Promise<void>((resolve) => (signal.wake = resolve));
            signal.wake = null;
            continue;
          }
          if (!change.mapVersion || last === Number.NEGATIVE_INFINITY) {
            last = change.mapVersion || last;
            yield change;
          } else if (change.mapVersion > last) {
            // The feed delivers in order; a change beyond the next one means the hand-over
            // skipped some: they are in the log.
            for (const missing of await readAfter(store(), sessionId, last, change.mapVersion - last - 1)) {
              last = missing.mapVersion;
              yield missing;
            }
            last = change.mapVersion;
            yield change;
          }
        }
      } finally {
        await leave();
      }
    }
    return changes();
  }

  /**
   * The first page of changes after `afterMapVersion`.
   *
   * @throws DomainError RESYNC_REQUIRED
   */
  private async replayFrom(sessionId: string, afterMapVersion: number): Promise<SeatStatusChangedEvent[]> {
    const store = this.store();
    const window = await store.replayWindow(sessionId);
    const current = window?.current ?? 0;
    if (afterMapVersion > current) {
      throw resyncRequired(sessionId, afterMapVersion, current, 'is above the current map version');
    }
    if (afterMapVersion < current && (window?.oldestKept ?? Number.POSITIVE_INFINITY) > afterMapVersion + 1) {
      throw resyncRequired(sessionId, afterMapVersion, current, 'is older than the changes still kept');
    }
    if (afterMapVersion === current) {
      return [];
    }
    const replay = await readAfter(store, sessionId, afterMapVersion);
    // The pruner may have deleted the next version since the window was read.
    if (replay[0]?.mapVersion !== afterMapVersion + 1) {
      throw resyncRequired(sessionId, afterMapVersion, current, 'is older than the changes still kept');
    }
    return replay;
  }

  private async watch(sessionId: string): Promise<void> {
    const existing = this.watched.get(sessionId);
    if (existing) {
      existing.subscribers += 1;
      await existing.chain;
      return;
    }
    const watch: Watch = { subscribers: 1, last: 0, chain: Promise.resolve() };
    this.watched.set(sessionId, watch);
    // Deliveries wait for the starting point: the version committed when the first subscriber came.
    watch.chain = this.store()
      .currentVersions([sessionId])
      .then((versions) => {
        watch.last = Math.max(watch.last, versions.get(sessionId) ?? 0);
      })
      .catch((error: unknown) => this.logger.warn({ err: error, sessionId }, 'Could not read a map version'));
    await watch.chain;
  }

  private unwatch(sessionId: string): void {
    const watch = this.watched.get(sessionId);
    if (watch && --watch.subscribers === 0) {
      this.watched.delete(sessionId);
    }
  }

  private enqueue(sessionId: string, watch: Watch, step: () => Promise<void>): void {
    watch.chain = watch.chain
      .then(step)
      .catch((error: unknown) =>
        this.logger.warn({ err: error, sessionId }, 'Could not fill a gap in a live seat map'),
      );
  }

  /** Delivers what lies between the last delivered version and `until`, then `event` if it is next. */
  private async advance(
    sessionId: string,
    watch: Watch,
    until: number,
    event?: SeatStatusChangedEvent,
  ): Promise<void> {
    if (until <= watch.last) {
      return;
    }
    const missingUntil = event ? until - 1 : until;
    while (watch.last < missingUntil) {
      const missing = await readAfter(this.store(), sessionId, watch.last, missingUntil - watch.last);
      if (missing.length === 0) {
        break;
      }
      for (const change of missing) {
        watch.last = change.mapVersion;
        this.publish(change);
      }
    }
    if (event && event.mapVersion > watch.last) {
      watch.last = event.mapVersion;
      this.publish(event);
    }
  }

  private publish(event: SeatStatusChangedEvent): void {
    this.pubSub.publish('seat-status-changed', event.sessionId, event);
  }
}

async function readAfter(
  store: SeatChangeStore,
  sessionId: string,
  afterVersion: number,
  limit = REPLAY_PAGE,
): Promise<SeatStatusChangedEvent[]> {
  return store.findAfter(sessionId, afterVersion, Math.min(limit, REPLAY_PAGE));
}

function resyncRequired(
  sessionId: string,
  afterMapVersion: number,
  current: number,
  why: string,
): DomainError {
  return new DomainError(
    ErrorCode.ResyncRequired,
    `afterMapVersion ${afterMapVersion} ${why}: read the seat map again (with its mapVersion) and subscribe after it.`,
    { sessionId, afterMapVersion, mapVersion: current },
  );
}
