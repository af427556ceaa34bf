import {
  createSourceEventStream,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  getOperationAST,
  print,
  subscribe as executeSubscription,
} from 'graphql';
import { type Logger } from '../infra/logger';
import { contextOf, detached, inSpan, untraced } from '../infra/tracing';

/** One event of a channel: the result, and its JSON when it has no errors (written once). */
interface SharedResult {
  readonly result: ExecutionResult;
  readonly json: string | null;
}

/** Told each event of its channel, then `null` when the channel ends. */
type Listener = (event: SharedResult | null) => void;

/**
 * Where a subscriber's `next` messages can be written directly: its graphql-ws message id and
 * its socket. Every subscriber of a channel then gets the same serialised payload, framed
 * with its id, instead of graphql-ws serialising the result once per subscriber.
 */
export interface SubscriberSink {
  readonly id: string;
  send(frame: string): void;
}

/**
 * Execution arguments that may say where their results can be written directly. A transport
 * that can take pre-serialised frames (websocket) sets `sink`; others leave it out and get
 * every result through the returned generator.
 */
export interface LiveExecutionArgs extends ExecutionArgs {
  readonly sink?: SubscriberSink;
}

/** A graphql-transport-ws `next` message, byte for byte what graphql-ws itself would write. */
export function nextFrame(id: string, payloadJson: string): string {
  return `{"id":${JSON.stringify(id)},"type":"next","payload":${payloadJson}}`;
}

interface Channel {
  readonly listeners: Set<Listener>;
  /** The subscription's source events (e.g. the seat-map feed's changes of one session). */
  readonly source: AsyncIterator<unknown>;
}

/** Subscription fields whose results depend only on the document and its variables. */
const SHAREABLE_FIELDS = new Set(['seatStatusChanged']);

function isShareable(args: ExecutionArgs): boolean {
  const operation = getOperationAST(args.document, args.operationName);
  if (operation?.operation !== 'subscription') {
    return false;
  }
  // A resumed subscription replays from its own version first: each is its own.
  return operation.selectionSet.selections.every(
    (selection) =>
      selection.kind === 'Field' &&
      SHAREABLE_FIELDS.has(selection.name.value) &&
      !selection.arguments?.some((argument) => argument.name.value === 'afterMapVersion'),
  );
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Whether a subscribe result is a stream of results (not an early ExecutionResult). */
export function isAsyncGenerator(value: unknown): value is AsyncGenerator<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * Executes each public subscription once per event for all its subscribers: subscribers of the
 * same document and variables (e.g. one session's seat map) share one GraphQL execution, whose
 * results are handed to each of them. graphql-ws would otherwise run the selection set once per
 * subscriber per event. Subscriptions that depend on the caller (reservationUpdated) are not
 * shared.
 */
export class SharedSubscriptions {
  private readonly channels = new Map<string, Channel | Promise<Channel | ExecutionResult>>();

  /** @param logger told of a channel that failed (its subscribers are then ended). */
  constructor(private readonly logger?: Logger) {}

  /**
   * graphql-ws's `subscribe`. With a `sink` in `args`, results without errors go straight to
   * the subscriber's socket; the returned generator then yields only results with errors
   * (which graphql-ws formats) and ends with the channel.
   */
  readonly subscribe = async (
    args: LiveExecutionArgs,
  ): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> => {
    const { sink } = args;
    if (!isShareable(args)) {
      return executeSubscription(args) as Promise<AsyncGenerator<ExecutionResult> | ExecutionResult>;
    }
    // The sink is the subscriber's own, not part of what the channel computes.
    const key = `${args.operationName ?? ''}\n${print(args.document)}\n${JSON.stringify(args.variableValues ?? {})}`;
    let pending = this.channels.get(key);
    if (!pending) {
      pending = this.open(key, args);
      this.channels.set(key, pending);
    }
    const channel = await pending;
    if (!('listeners' in channel)) {
      // Refused at subscribe time (e.g. NOT_FOUND): every caller gets the errors.
      return channel;
    }
    return this.follow(key, channel, sink);
  };

  private async open(key: string, args: ExecutionArgs): Promise<Channel | ExecutionResult> {
    // graphql's `subscribe`, in two steps, so that each source event is at hand while its result
    // is executed and written: its trace (the change's) then covers the delivery.
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) {
      this.channels.delete(key);
      return stream;
    }
    const channel: Channel = { listeners: new Set(), source: stream[Symbol.asyncIterator]() };
    this.channels.set(key, channel);
    // Detached: the loop outlives the subscriber that opened the channel and serves them all,
    // so it must not run in that subscriber's context (over SSE, its HTTP request's span).
    void detached(() => this.run(key, channel, args));
    return channel;
  }

  /**
   * The channel's loop: executes each source event once and hands the result to every
   * subscriber, until the source ends or something fails. Then the channel closes, and its
   * subscribers end as graphql's `subscribe` would have ended them. Never rejects.
   */
  private async run(key: string, channel: Channel, args: ExecutionArgs): Promise<void> {
    try {
      for (;;) {
        const next = await channel.source.next();
        if (next.done) {
          break;
        }
        const payload: unknown = next.value;
        const parent = contextOf(payload);
        const deliver = async () => {
          const result = await execute({ ...args, rootValue: payload });
          const event: SharedResult = { result, json: result.errors ? null : JSON.stringify(result) };
          for (const listener of channel.listeners) {
            listener(event);
          }
        };
        // Only a change that came with a trace gets a delivery span (never a trace of its own):
        // without one, the graphql instrumentation is silenced too, or each execution would be
        // a root trace.
        await (parent
          ? inSpan(
              'subscription deliver',
              (span) => {
                span?.setAttribute('poltrona.subscribers', channel.listeners.size);
                return deliver();
              },
              { parent },
            )
          : untraced(deliver));
      }
    } catch (error) {
      // graphql's `subscribe` closes the source when a result cannot be made; so does this, or
      // the feed's subscription and its listener would stay behind with nobody reading them.
      this.logger?.error({ err: error }, 'A shared subscription failed: its subscribers are ended');
      try {
        await channel.source.return?.(undefined);
      } catch (closeError) {
        this.logger?.warn({ err: closeError }, 'A failed shared subscription could not close its source');
      }
    } finally {
      if (this.channels.get(key) === channel) {
        this.channels.delete(key);
      }
      for (const listener of channel.listeners) {
        listener(null);
      }
    }
  }

  /** One subscriber's view of a channel: an async generator fed by the shared execution. */
  private follow(key: string, channel: Channel, sink?: SubscriberSink): AsyncGenerator<ExecutionResult> {
    const queue: ExecutionResult[] = [];
    let wake: (() => void) | null = null;
    let closed = false;
    const listener: Listener = (event) => {
      if (event === null) {
        closed = true;
      } else if (sink && event.json !== null) {
        sink.send(nextFrame(sink.id, event.json));
        return;
      } else {
        queue.push(event.result);
      }
      wake?.();
    };
    channel.listeners.add(listener);
    const leave = async () => {
      channel.listeners.delete(listener);
      if (channel.listeners.size === 0 && this.channels.get(key) === channel) {
        this.channels.delete(key);
        await channel.source.return?.(undefined);
      }
    };
    async function* results(): AsyncGenerator<ExecutionResult> {
      try {
        while (!closed || queue.length > 0) {
          if (queue.length === 0) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
            continue;
          }
          yield queue.shift() as ExecutionResult;
        }
      } finally {
        await leave();
      }
    }
    const generator = results();
    // return() waits for the generator to reach a yield; wake it so an idle subscriber can leave.
    const finish = generator.return.bind(generator);
    generator.return = (value) => {
      closed = true;
      wake?.();
      return finish(value);
    };
    return generator;
  }
}
