import { randomUUID } from 'node:crypto';
import { type Client, createClient, type ExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { type SubscriptionSignals } from '../../src/transports/subscription-signals';

/** A graphql-ws subscription whose results a test can await one by one. */
export interface TestSubscription<Data> {
  /** The next result (data or errors), in order of arrival. */
  next(): Promise<ExecutionResult<Data>>;
  /** Resolves when the server completes the subscription. */
  readonly completed: Promise<void>;
  close(): Promise<void>;
}

export function websocketUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws');
}

/** What the helpers know of a client they opened. */
interface ClientState {
  /** The server's signals, when it runs in this process. */
  readonly signals?: SubscriptionSignals;
  /** The id of the client's latest subscribe call (graphql-ws makes it synchronously). */
  lastId?: string;
}

const states = new WeakMap<Client, ClientState>();

/**
 * Opens a client for `url` (ws://.../graphql) with an optional bearer token. With the
 * server's `signals` (`app.subscriptionSignals`, for a server in this process),
 * {@link subscribe} waits until the server has registered each subscription.
 */
export function openClient(url: string, token?: string, signals?: SubscriptionSignals): Client {
  const state: ClientState = { signals };
  const client = createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    generateID: () => (state.lastId = randomUUID()),
  });
  states.set(client, state);
  return client;
}

/** Resolves when the server registered subscription `id`, or when `answered` settles first. */
async function registered(signals: SubscriptionSignals, id: string, answered: Promise<void>): Promise<void> {
  let listener: ((registeredId: string) => void) | undefined;
  const signalled = new Promise<void>((resolve) => {
    listener = (registeredId) => {
      if (registeredId === id) {
        resolve();
      }
    };
    signals.on('subscribed', listener);
  });
  try {
    await Promise.race([signalled, answered]);
  } finally {
    signals.off('subscribed', listener!);
  }
}

/**
 * Subscribes and resolves once the server has registered the subscription, so events
 * committed afterwards are guaranteed to reach it (or once it was answered, e.g. refused).
 */
export async function subscribe<Data>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
): Promise<TestSubscription<Data>> {
  const results: ExecutionResult<Data>[] = [];
  const waiters: ((result: ExecutionResult<Data>) => void)[] = [];
  let markCompleted!: () => void;
  const completed = new Promise<void>((resolve) => (markCompleted = resolve));
  let markAnswered!: () => void;
  const answered = new Promise<void>((resolve) => (markAnswered = resolve));
  const push = (result: ExecutionResult<Data>) => {
    markAnswered();
    const waiter = waiters.shift();
    if (waiter) {
      waiter(result);
    } else {
      results.push(result);
    }
  };
  const state = states.get(client);
  const dispose = client.subscribe<Data>(
    { query, variables },
    {
      next: push,
      // Marked, so that a test can tell a graphql-ws `error` message from a `next` with errors.
      error: (error) =>
        push({
          errors: Array.isArray(error) ? error : [{ message: String(error) }],
          extensions: { message: 'error' },
        } as ExecutionResult<Data>),
      complete: () => {
        markAnswered();
        markCompleted();
      },
    },
  );
  const id = state?.lastId;
  if (state?.signals && id) {
    // Nothing is sent before this listens: graphql-ws sends the subscribe message later.
    await registered(state.signals, id, answered);
  } else {
    // A server in another process has no signals here; a round trip on the same socket is
    // the best there is (graphql-ws may still be handling the subscribe message).
    await new Promise<void>((resolve, reject) => {
      client.subscribe(
        { query: '{ __typename }' },
        { next: () => undefined, error: reject, complete: resolve },
      );
    });
  }
  return {
    next: () => {
      const ready = results.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiters.push(resolve));
    },
    completed,
    close: async () => {
      dispose();
    },
  };
}

/** graphql-ws clients a test opens against one server, disposed together in `afterAll`. */
export class ClientPool {
  private readonly clients: Client[] = [];

  /** `signals`: the server's, when it runs in this process (see {@link openClient}). */
  constructor(
    private readonly httpUrl: () => string,
    private readonly signals?: () => SubscriptionSignals,
  ) {}

  open(token?: string): Client {
    const client = openClient(websocketUrl(this.httpUrl()), token, this.signals?.());
    this.clients.push(client);
    return client;
  }

  async disposeAll(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((client) => client.dispose()));
  }
}
