import {
  createSourceEventStream,
  type DocumentNode,
  execute,
  type ExecutionArgs,
  type ExecutionResult,
  getOperationAST,
  type OperationDefinitionNode,
  print,
  subscribe as executeSubscription,
  visit,
} from 'graphql';
import { type SeatStatusChangedEvent } from '../booking/booking-events';
import { type Logger } from '../infra/logger';
import { contextOf, detached, inSpan, untraced } from '../infra/tracing';
import { type SharedResult, SharedResults, sharedResultOf } from './shared-results';

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

/**
 * The argument that makes a shareable subscription a resume: where its stream starts, never
 * what a change reads as (the field's result is made from the change alone).
 */
const RESUME_ARGUMENT = 'afterMapVersion';

/** How a subscription's events are executed: one channel for all, one stream each, or graphql's own. */
type Sharing = 'channel' | 'resume' | 'none';

function sharingOf(args: ExecutionArgs): Sharing {
  const operation = getOperationAST(args.document, args.operationName);
  if (operation?.operation !== 'subscription') {
    return 'none';
  }
  const fields = operation.selectionSet.selections;
  if (!fields.every((field) => field.kind === 'Field' && SHAREABLE_FIELDS.has(field.name.value))) {
    return 'none';
  }
  // A resumed subscription replays from its own version first: each has a stream of its own,
  // and shares the results of the changes it is given (see `SharedSubscriptions.resume`).
  return fields.some(
    (field) =>
      field.kind === 'Field' && field.arguments?.some((argument) => argument.name.value === RESUME_ARGUMENT),
  )
    ? 'resume'
    : 'channel';
}

/** What a channel's results depend on: the operation, the document and the variables. */
function channelKey(args: ExecutionArgs): string {
  return `${args.operationName ?? ''}\n${print(args.document)}\n${JSON.stringify(args.variableValues ?? {})}`;
}

/**
 * What a resumed subscription's results depend on: its channel key without the resume
 * argument and the variables only it uses, so that resumes from different versions share
 * the results of the changes they have in common.
 */
function resumeKey(args: ExecutionArgs): string {
  const operation = getOperationAST(args.document, args.operationName) as OperationDefinitionNode;
  const resumed: OperationDefinitionNode = {
    ...operation,
    selectionSet: {
      ...operation.selectionSet,
      selections: operation.selectionSet.selections.map((field) =>
        field.kind === 'Field'
          ? {
              ...field,
              arguments: field.arguments?.filter((argument) => argument.name.value !== RESUME_ARGUMENT),
            }
          : field,
      ),
    },
  };
  const document: DocumentNode = {
    ...args.document,
    definitions: args.document.definitions.map((definition) =>
      definition === operation ? resumed : definition,
    ),
  };
  const used = new Set<string>();
  visit(document, {
    // A declared variable is not a used one.
    VariableDefinition: () => false,
    Variable: (variable) => {
      used.add(variable.name.value);
    },
  });
  const variables = Object.entries(args.variableValues ?? {}).filter(([name]) => used.has(name));
  return channelKey({ ...args, document, variableValues: Object.fromEntries(variables) });
}

/**
 * The map version of a resumed subscription's event: which change of the subscription's session
 * it is (its session is in the subscription's key).
 */
function mapVersionOf(payload: unknown): number | null {
  const mapVersion = (payload as Partial<SeatStatusChangedEvent> | null)?.mapVersion;
  // Events from before map versions have none: they are executed for each subscriber.
  return typeof mapVersion === 'number' && mapVersion > 0 ? mapVersion : null;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** Whether a subscribe result is a stream of results (not an early ExecutionResult). */
export function isAsyncGenerator(value: unknown): value is AsyncGenerator<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/** graphql's `execute`, or a stand-in that observes it (tests count executions). */
export type ExecuteOperation = typeof execute;

/**
 * Runs `work` (an event's execution, and a channel's writes) in the trace its change came
 * with, as a `subscription deliver` span (never a trace of its own). A change without one (read
 * back from the log) runs with the instrumentations silenced too, or each execution would be a
 * root trace.
 */
function inDeliverySpan<Result>(
  payload: unknown,
  work: () => Promise<Result>,
  subscribers?: () => number,
): Promise<Result> {
  const parent = contextOf(payload);
  return parent
    ? inSpan(
        'subscription deliver',
        (span) => {
          if (subscribers) {
            span?.setAttribute('poltrona.subscribers', subscribers());
          }
          return work();
        },
        { parent },
      )
    : untraced(work);
}

/**
 * Executes each public subscription once per event for all its subscribers: subscribers of the
 * same document and variables (e.g. one session's seat map) share one GraphQL execution, whose
 * results are handed to each of them. graphql-ws would otherwise run the selection set once per
 * subscriber per event. Resumed subscriptions (`afterMapVersion`) each follow a stream of their
 * own, but share the result of each change with every other resume of the same selection
 * (see {@link SharedResults}). Subscriptions that depend on the caller (reservationUpdated) are
 * not shared.
 */
export class SharedSubscriptions {
  private readonly channels = new Map<string, Channel | Promise<Channel | ExecutionResult>>();
  private readonly changeResults = new SharedResults();

  /**
   * @param logger told of a channel that failed (its subscribers are then ended).
   * @param executeOperation how shared results are executed: graphql's `execute`.
   */
  constructor(
    private readonly logger?: Logger,
    private readonly executeOperation: ExecuteOperation = execute,
  ) {}

  /**
   * graphql-ws's `subscribe`. With a `sink` in `args`, results without errors go straight to
   * the subscriber's socket; the returned generator then yields only results with errors
   * (which graphql-ws formats) and ends with the channel (or the resumed stream).
   */
  readonly subscribe = async (
    args: LiveExecutionArgs,
  ): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> => {
    const sharing = sharingOf(args);
    if (sharing === 'none') {
      return executeSubscription(args) as Promise<AsyncGenerator<ExecutionResult> | ExecutionResult>;
    }
    if (sharing === 'resume') {
      return this.resume(args);
    }
    // The sink is the subscriber's own, not part of what the channel computes.
    const key = channelKey(args);
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
    return this.follow(key, channel, args.sink);
  };

  /** An event's result for `args`, executed and serialised once. */
  private async execute(args: ExecutionArgs, payload: unknown): Promise<SharedResult> {
    return sharedResultOf(await this.executeOperation({ ...args, rootValue: payload }));
  }

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
        await inDeliverySpan(
          payload,
          async () => {
            const event = await this.execute(args, payload);
            for (const listener of channel.listeners) {
              listener(event);
            }
          },
          () => channel.listeners.size,
        );
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

  /**
   * A resumed subscription: graphql's `subscribe` (its own stream: the replay after its
   * version, then live), except that each change's result comes from {@link SharedResults}, so
   * a thousand clients resuming at once execute and serialise each change once, not a
   * thousand times. Pulled by the transport, one event after the other: the order, and every
   * result, are the stream's.
   */
  private async resume(args: LiveExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
    const stream = await createSourceEventStream(args);
    if (!isAsyncIterable(stream)) {
      // Refused at subscribe time (RESYNC_REQUIRED, NOT_FOUND…), as graphql's `subscribe` answers.
      return stream;
    }
    const key = resumeKey(args);
    return resultsOf(
      stream[Symbol.asyncIterator](),
      (payload) => {
        const execute = () => inDeliverySpan(payload, () => this.execute(args, payload));
        const mapVersion = mapVersionOf(payload);
        return mapVersion === null ? execute() : this.changeResults.get(key, mapVersion, execute);
      },
      args.sink,
    );
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

/**
 * One subscriber's results of `source`'s events, as graphql's `subscribe` maps them, with
 * results that have no errors written to `sink` (when there is one) before the next event is
 * pulled, and only the others yielded. Ending the results ends the source; a result that
 * cannot be made closes the source and rejects, as graphql's mapping does.
 */
function resultsOf(
  source: AsyncIterator<unknown>,
  resultOf: (payload: unknown) => Promise<SharedResult>,
  sink: SubscriberSink | undefined,
): AsyncGenerator<ExecutionResult> {
  let closed = false;
  const close = async () => {
    closed = true;
    await source.return?.(undefined);
  };
  const results: AsyncGenerator<ExecutionResult> = {
    next: async () => {
      for (;;) {
        const next = await source.next();
        if (next.done || closed) {
          return { done: true, value: undefined };
        }
        try {
          const event = await resultOf(next.value);
          // Ended while this one was executed: the subscriber wants no more.
          if (closed) {
            return { done: true, value: undefined };
          }
          if (!sink || event.json === null) {
            return { done: false, value: event.result };
          }
          sink.send(nextFrame(sink.id, event.json));
        } catch (error) {
          await close().catch(() => undefined);
          throw error;
        }
      }
    },
    return: async () => {
      await close();
      return { done: true, value: undefined };
    },
    throw: async (error: unknown) => {
      await close();
      throw error;
    },
    [Symbol.asyncIterator]: () => results,
    [Symbol.asyncDispose]: async () => {
      await close();
    },
  };
  return results;
}
