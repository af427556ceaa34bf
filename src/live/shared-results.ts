import { type ExecutionResult } from 'graphql';

/** One event's result for one selection, and its JSON when it has no errors (written once). */
export interface SharedResult {
  readonly result: ExecutionResult;
  readonly json: string | null;
}

/** `result` with its JSON, serialised once for everyone it is handed to. */
export function sharedResultOf(result: ExecutionResult): SharedResult {
  return { result, json: result.errors ? null : JSON.stringify(result) };
}

/**
 * Most results kept. A seat change is one reservation's seats (at most 10): a result with every
 * field of 10 seats takes about 5 kB of heap (2.5 kB of JSON and its objects), so this bounds
 * the cache at about 10 MB per transport. A thousand subscribers resuming at once work through
 * the same changes at about the same pace: far fewer than this at a time.
 */
export const MAX_SHARED_RESULTS = 2_000;

/** A kept result's place: its selection, and its change's map version. */
interface Entry {
  readonly selection: string;
  readonly mapVersion: number;
}

/**
 * Executed results of committed changes, by selection (what the result depends on besides the
 * change: document and variables, the session included) and map version. Subscribers that
 * need the same change in the same selection at about the same time (resumes replaying the
 * same versions) share one execution and one serialisation. Bounded: past `capacity` results
 * the oldest goes; a change asked for again after that is executed again, with the same
 * result. Only results without errors are kept (an error is not worth remembering); while a
 * result is being executed, everyone asking for it waits for that one execution, errors
 * included.
 */
export class SharedResults {
  // Two levels, so that a lookup hashes the subscriber's own selection string (its hash is
  // kept with it) and a number, not a new string per change and subscriber.
  private readonly results = new Map<string, Map<number, Promise<SharedResult>>>();
  // Insertion order: the eviction order.
  private readonly entries = new Set<Entry>();

  constructor(private readonly capacity = MAX_SHARED_RESULTS) {}

  /** How many results are kept (or being executed) now. */
  get size(): number {
    return this.entries.size;
  }

  /** The result of change `mapVersion` in `selection`: the one kept, or `execute`'s, kept for the next ones. */
  get(selection: string, mapVersion: number, execute: () => Promise<SharedResult>): Promise<SharedResult> {
    const versions = this.results.get(selection) ?? new Map<number, Promise<SharedResult>>();
    const kept = versions.get(mapVersion);
    if (kept) {
      return kept;
    }
    const entry: Entry = { selection, mapVersion };
    const executed = execute().then(
      (shared) => {
        if (shared.json === null) {
          this.forget(entry);
        }
        return shared;
      },
      (error: unknown) => {
        this.forget(entry);
        throw error;
      },
    );
    versions.set(mapVersion, executed);
    this.results.set(selection, versions);
    this.entries.add(entry);
    if (this.entries.size > this.capacity) {
      const [oldest] = this.entries;
      this.forget(oldest);
    }
    return executed;
  }

  /** Drops `entry`, if it is still kept (an entry is kept exactly while it is in `entries`). */
  private forget(entry: Entry): void {
    if (!this.entries.delete(entry)) {
      return;
    }
    const versions = this.results.get(entry.selection) as Map<number, Promise<SharedResult>>;
    versions.delete(entry.mapVersion);
    if (versions.size === 0) {
      this.results.delete(entry.selection);
    }
  }
}
