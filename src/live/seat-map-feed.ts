import { type SeatStatusChangedEvent } from '../booking/booking-events';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { type Logger } from '../infra/logger';
import { rememberContext } from '../infra/tracing';
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

/** A session this process has subscribers of. */
interface Watch {
  subscribers: number;
  /** The last map version delivered to its subscribers. */
  last: number;
  /**
   * The latest changes delivered (or read back from the log), consecutive, ending at `last`
   * (or empty): resumes are replayed from here, without a statement each.
   */
  recent: SeatStatusChangedEvent[];
  /** Deliveries and log reads of this session, one after the other. */
  chain: Promise<void>;
  /** Resumes being prepared: while any is, the memory is not trimmed (they need its front). */
  resuming: number;
}

// Changes read from the log per statement while filling a gap or going back for a resume.
const LOG_PAGE = 500;

// Wait before reading the log again after a failed read.
const RETRY_MILLISECONDS = 500;

/** Most changes kept in memory per session with subscribers (a resume further back reads the log). */
const MAX_RECENT = 2_000;

/**
 * One process's live seat maps: every committed seat change reaches the subscribers of its
 * session in map-version order with no gap and no duplicate. The live stream (the process's
 * broker queue) may lose events (a broker outage longer than the queue's life, a restart) or
 * repeat them (at-least-once): for each session with subscribers the feed remembers the last
 * version it delivered, fills any gap from the change log before delivering a later change,
 * drops what it already delivered, and after each broker (re)connection brings every such
 * session up to its current version ({@link catchUp}).
 *
 * Resumes (`afterMapVersion`) replay from the feed's memory of the session's latest changes,
 * which one log read per session extends back when a resume asks for older ones: a thousand
 * clients resuming at once cost one statement, not a thousand.
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
    // The trace the change came in with (the broker message's), for the shared subscription
    // that writes it to the subscribers on its own async path. Only here: a change read back
    // from the log (a gap filled, a replay, a catch-up) belongs to no operation, least of all
    // to whichever is active when it is read (a resuming subscriber's request).
    rememberContext(event);
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
   * `afterMapVersion`, every change after it in order and then live, with no gap and no
   * duplicate across the hand-over.
   *
   * @throws DomainError RESYNC_REQUIRED when the changes after `afterMapVersion` are no longer
   *   kept, or it is above the session's current version (checked before anything is sent).
   */
  async subscribe(
    sessionId: string,
    afterMapVersion?: number | null,
  ): Promise<AsyncGenerator<SeatStatusChangedEvent>> {
    const watch = await this.watch(sessionId);
    const resuming = afterMapVersion !== undefined && afterMapVersion !== null;
    if (!resuming) {
      return this.follow(sessionId, [], null);
    }
    watch.resuming += 1;
    try {
      await this.prepareReplay(sessionId, watch, afterMapVersion);
    } catch (error) {
      this.unwatch(sessionId);
      throw error;
    } finally {
      watch.resuming -= 1;
    }
    // From here to the pub-sub registration nothing awaits: the replay holds every change up to
    // `watch.last` (the memory was pinned until now), and every later one is published after the
    // registration.
    const replay = watch.recent.filter((change) => change.mapVersion > afterMapVersion);
    return this.follow(sessionId, replay, afterMapVersion);
  }

  private follow(
    sessionId: string,
    replay: SeatStatusChangedEvent[],
    after: number | null,
  ): AsyncGenerator<SeatStatusChangedEvent> {
    const live = this.pubSub.subscribe('seat-status-changed', sessionId)[Symbol.asyncIterator]();
    const buffered: SeatStatusChangedEvent[] = [];
    // Wakes the subscriber's generator when a change arrives or the stream ends.
    const signal: { wake: (() => void) | null; ended: boolean } = { wake: null, ended: false };
    // Pulled at once (the pub-sub starts listening on the first pull): from here on, changes
    // published for this session wait in `buffered`.
    const pump = (async () => {
      for (;;) {
        const next = await live.next();
        if (next.done) {
          break;
        }
        buffered.push(next.value);
        signal.wake?.();
      }
      signal.ended = true;
      signal.wake?.();
    })();
    let left: Promise<void> | null = null;
    const leave = () =>
      (left ??= (async () => {
        signal.ended = true;
        signal.wake?.();
        await live.return?.(undefined);
        await pump;
        this.unwatch(sessionId);
      })());
    async function* changes(): AsyncGenerator<SeatStatusChangedEvent> {
      let last = after ?? Number.NEGATIVE_INFINITY;
      try {
        for (const change of replay) {
          last = change.mapVersion;
          yield change;
        }
        while (!signal.ended || buffered.length > 0) {
          const change = buffered.shift();
          if (!change) {
            await new Promise<void>((resolve) => (signal.wake = resolve));
            signal.wake = null;
            continue;
          }
          // The feed publishes each version once and in order; an event from before map
          // versions has none.
          if (!change.mapVersion || change.mapVersion > last) {
            last = change.mapVersion || last;
            yield change;
          }
        }
      } finally {
        await leave();
      }
    }
    const generator = changes();
    // return() on a generator waiting for a change only takes effect at its next yield, and on
    // one that never started skips its `finally`: leave at once either way (a client that
    // disconnects while its subscription is being set up must not leave a listener behind).
    const finish = generator.return.bind(generator);
    generator.return = async (value) => {
      const finished = finish(value);
      await leave();
      return finished;
    };
    return generator;
  }

  /**
   * Makes the session's memory hold every change after `afterMapVersion`, reading the log back
   * (once for all the resumes waiting) or forward (when this process lags behind the database).
   *
   * @throws DomainError RESYNC_REQUIRED
   */
  private async prepareReplay(sessionId: string, watch: Watch, afterMapVersion: number): Promise<void> {
    if (afterMapVersion > watch.last) {
      // Ahead of what this process delivered: a change in flight, or a version from the future.
      const window = await this.store().replayWindow(sessionId);
      const current = window?.current ?? 0;
      if (afterMapVersion > current) {
        throw resyncRequired(sessionId, afterMapVersion, current, 'is above the current map version');
      }
      this.enqueue(sessionId, watch, () => this.advance(sessionId, watch, current));
      await watch.chain;
    }
    const oldest = watch.recent.length > 0 ? watch.recent[0].mapVersion : watch.last + 1;
    if (afterMapVersion + 1 < oldest) {
      this.enqueue(sessionId, watch, () => this.remember(sessionId, watch, afterMapVersion));
      await watch.chain;
      const kept = watch.recent.length > 0 ? watch.recent[0].mapVersion : watch.last + 1;
      if (afterMapVersion + 1 < kept) {
        throw resyncRequired(sessionId, afterMapVersion, watch.last, 'is older than the changes still kept');
      }
    }
  }

  private async watch(sessionId: string): Promise<Watch> {
    const existing = this.watched.get(sessionId);
    if (existing) {
      existing.subscribers += 1;
      await existing.chain;
      return existing;
    }
    const watch: Watch = { subscribers: 1, last: 0, recent: [], chain: Promise.resolve(), resuming: 0 };
    this.watched.set(sessionId, watch);
    // Deliveries wait for the starting point: the version committed when the first subscriber came.
    const baseline = this.store()
      .currentVersions([sessionId])
      .then((versions) => {
        watch.last = Math.max(watch.last, versions.get(sessionId) ?? 0);
      });
    // Without its starting point the feed would take every kept change for new: refuse instead.
    watch.chain = baseline.catch(() => undefined);
    try {
      await baseline;
    } catch (error) {
      this.unwatch(sessionId);
      throw error;
    }
    return watch;
  }

  private unwatch(sessionId: string): void {
    const watch = this.watched.get(sessionId);
    if (watch && --watch.subscribers === 0) {
      this.watched.delete(sessionId);
    }
  }

  private enqueue(sessionId: string, watch: Watch, step: () => Promise<void>): void {
    watch.chain = watch.chain.then(step).catch((error: unknown) => {
      this.logger.warn({ err: error, sessionId }, 'Could not read the seat change log; retrying');
      // Steps are idempotent (they deliver only what lies after the last delivered version):
      // try again shortly rather than leave the subscribers behind until the next change.
      setTimeout(() => {
        if (this.watched.get(sessionId) === watch) {
          this.enqueue(sessionId, watch, step);
        }
      }, RETRY_MILLISECONDS).unref();
    });
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
      const missing = await this.store().findAfter(
        sessionId,
        watch.last,
        Math.min(LOG_PAGE, missingUntil - watch.last),
      );
      if (missing.length === 0) {
        break;
      }
      missing.forEach((change) => this.delivered(watch, change));
    }
    if (event && event.mapVersion > watch.last) {
      this.delivered(watch, event);
    }
  }

  /** Extends the session's memory back to the change after `afterVersion`, as far as the log keeps. */
  private async remember(sessionId: string, watch: Watch, afterVersion: number): Promise<void> {
    const until = (watch.recent.length > 0 ? watch.recent[0].mapVersion : watch.last + 1) - 1;
    const earlier: SeatStatusChangedEvent[] = [];
    for (let from = afterVersion; from < until;) {
      const page = await this.store().findAfter(sessionId, from, Math.min(LOG_PAGE, until - from));
      if (page.length === 0) {
        break;
      }
      earlier.push(...page);
      from = page[page.length - 1].mapVersion;
    }
    // Only a consecutive run that joins the memory: a pruned log leaves the front missing.
    const joined = earlier.filter((change) => change.mapVersion <= until);
    if (joined.length > 0 && joined[joined.length - 1].mapVersion === until && isConsecutive(joined)) {
      watch.recent = [...joined, ...watch.recent];
    }
  }

  private delivered(watch: Watch, change: SeatStatusChangedEvent): void {
    watch.last = change.mapVersion;
    const previous = watch.recent[watch.recent.length - 1];
    if (previous && previous.mapVersion !== change.mapVersion - 1) {
      watch.recent = [];
    }
    watch.recent.push(change);
    if (watch.recent.length > MAX_RECENT && watch.resuming === 0) {
      watch.recent.splice(0, watch.recent.length - MAX_RECENT);
    }
    this.publish(change);
  }

  private publish(event: SeatStatusChangedEvent): void {
    this.pubSub.publish('seat-status-changed', event.sessionId, event);
  }
}

function isConsecutive(changes: readonly SeatStatusChangedEvent[]): boolean {
  return changes.every(
    (change, index) => index === 0 || change.mapVersion === changes[index - 1].mapVersion + 1,
  );
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
