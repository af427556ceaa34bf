import { type Client, createClient, type ExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';

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

/** Opens a client for `url` (ws://.../graphql) with an optional bearer token. */
export function openClient(url: string, token?: string): Client {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    lazy: true,
    retryAttempts: 0,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
}

/**
 * Subscribes and resolves once the server has acknowledged the subscription, so events
 * committed afterwards are guaranteed to reach it.
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
  const push = (result: ExecutionResult<Data>) => {
    const waiter = waiters.shift();
    if (waiter) {
      waiter(result);
    } else {
      results.push(result);
    }
  };
  const dispose = client.subscribe<Data>(
    { query, variables },
    {
      next: push,
      error: (error) =>
        push({
          errors: Array.isArray(error) ? error : [{ message: String(error) }],
        } as ExecutionResult<Data>),
      complete: markCompleted,
    },
  );
  // graphql-ws gives no "subscribed" signal; a round trip on the same socket after the
  // subscribe message means the server has processed it.
  await new Promise<void>((resolve, reject) => {
    client.subscribe(
      { query: '{ __typename }' },
      { next: () => undefined, error: reject, complete: resolve },
    );
  });
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

  constructor(private readonly httpUrl: () => string) {}

  open(token?: string): Client {
    const client = openClient(websocketUrl(this.httpUrl()), token);
    this.clients.push(client);
    return client;
  }

  async disposeAll(): Promise<void> {
    await Promise.all(this.clients.splice(0).map((client) => client.dispose()));
  }
}
