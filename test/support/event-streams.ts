import { randomUUID } from 'node:crypto';
import { createClient } from 'graphql-sse';
import { type SubscriptionSignals } from '../../src/transports/subscription-signals';

/** A result as the client reads it off the wire. */
export interface WireResult<Data> {
  readonly data?: Data | null;
  readonly errors?: readonly { message: string; extensions?: Record<string, unknown> }[];
}

/** A graphql-sse subscription whose results a test can await one by one. */
export interface SseSubscription<Data> {
  /** The next result (data or errors), in order of arrival. */
  next(): Promise<WireResult<Data>>;
  /** Resolves when the server completes the subscription. */
  readonly completed: Promise<void>;
  close(): Promise<void>;
}

/** The Server-Sent Events endpoint of a server whose GraphQL HTTP endpoint is `httpUrl`. */
export function eventStreamUrl(httpUrl: string): string {
  return `${httpUrl}/stream`;
}

/** One event of a `text/event-stream` (comments, the keep-alive pings, left out). */
export interface StreamEvent {
  readonly event: string;
  readonly data: unknown;
}

/** A GraphQL request sent to the stream endpoint. */
export interface StreamRequest {
  readonly query: string;
  readonly variables?: Record<string, unknown>;
  readonly operationName?: string;
}

/** Ways to send a stream request besides the defaults (POST, JSON, `Accept: text/event-stream`). */
export interface StreamRequestOptions {
  readonly token?: string;
  readonly headers?: Record<string, string>;
  /** GET sends the request in the query string, as a browser's EventSource does. */
  readonly method?: 'GET' | 'POST';
  /** The server's signals (a server in this process): resolve once the subscription is registered. */
  readonly signals?: SubscriptionSignals;
}

/**
 * How the response of an event stream ended: `finished` when the server ended it (the last
 * chunk of a chunked response: the body is done), `broken` when the connection went away under
 * it (destroyed by the server, or aborted by {@link RawEventStream.close}).
 */
export type StreamEnding = 'finished' | 'broken';

/** A raw event stream response, read event by event. */
export interface RawEventStream {
  readonly status: number;
  readonly headers: Headers;
  /** The JSON body of an answer that is not an event stream (a refusal). */
  readonly json?: unknown;
  /** The next event, or null once the server ended the response. */
  next(): Promise<StreamEvent | null>;
  /** Every event until the server ends the response. */
  rest(): Promise<StreamEvent[]>;
  /** How the response ended, once {@link next} has returned null; undefined until then. */
  ending(): StreamEnding | undefined;
  /** Goes away (aborts the request). */
  close(): void;
}

/** Parses complete events out of `buffer`; returns them and what is left. */
function parseEvents(buffer: string): { events: StreamEvent[]; rest: string } {
  const events: StreamEvent[] = [];
  const blocks = buffer.split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':') || line === '') {
        continue;
      }
      const [field, ...value] = line.split(':');
      const text = value.join(':').replace(/^ /, '');
      if (field === 'event') {
        event = text;
      } else if (field === 'data') {
        data.push(text);
      }
    }
    if (data.length > 0 || event !== 'message') {
      const joined = data.join('\n');
      events.push({ event, data: joined === '' ? null : (JSON.parse(joined) as unknown) });
    }
  }
  return { events, rest };
}

/**
 * Listens for `signals` to tell that subscription `id` is registered; `until(answered)`
 * resolves then, or when `answered` settles first. Listening starts at once, before the
 * request is sent: the server may register the subscription before its answer arrives.
 */
function listenForRegistration(signals: SubscriptionSignals, id: string) {
  let listener!: (registeredId: string) => void;
  const signalled = new Promise<void>((resolve) => {
    listener = (registeredId) => {
      if (registeredId === id) {
        resolve();
      }
    };
    signals.on('subscribed', listener);
  });
  return {
    until: async (answered: Promise<unknown>) => {
      try {
        await Promise.race([signalled, answered]);
      } finally {
        signals.off('subscribed', listener);
      }
    },
    stop: () => signals.off('subscribed', listener),
  };
}

/**
 * Sends `request` to the stream endpoint with fetch and reads the answer as it comes. With
 * `signals`, resolves once the server registered the subscription (or answered otherwise).
 */
export async function openEventStream(
  httpUrl: string,
  request: StreamRequest,
  options: StreamRequestOptions = {},
): Promise<RawEventStream> {
  const requestId = randomUUID();
  const controller = new AbortController();
  const method = options.method ?? 'POST';
  const headers: Record<string, string> = {
    accept: 'text/event-stream',
    'x-request-id': requestId,
    ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    ...options.headers,
  };
  let url = eventStreamUrl(httpUrl);
  let body: string | undefined;
  if (method === 'GET') {
    const search = new URLSearchParams({ query: request.query });
    if (request.variables) {
      search.set('variables', JSON.stringify(request.variables));
    }
    url = `${url}?${search.toString()}`;
  } else {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(request);
  }
  const registration = options.signals ? listenForRegistration(options.signals, requestId) : undefined;
  const response = await fetch(url, { method, headers, body, signal: controller.signal });
  const isStream = response.headers.get('content-type')?.startsWith('text/event-stream') ?? false;
  if (!isStream) {
    const text = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text === '' ? undefined : text;
    }
    registration?.stop();
    return {
      status: response.status,
      headers: response.headers,
      json,
      next: async () => null,
      rest: async () => [],
      ending: () => 'finished',
      close: () => controller.abort(),
    };
  }

  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  const ready: StreamEvent[] = [];
  let buffer = '';
  let ending: StreamEnding | undefined;
  let ended = false;
  const pull = async (): Promise<boolean> => {
    try {
      const { done, value } = await reader.read();
      if (done) {
        ending = 'finished';
        ended = true;
        return false;
      }
      const parsed = parseEvents(buffer + value);
      buffer = parsed.rest;
      ready.push(...parsed.events);
      return true;
    } catch {
      // fetch fails the body's read when the connection closes before the response ended.
      ending = 'broken';
      ended = true;
      return false;
    }
  };
  const next = async (): Promise<StreamEvent | null> => {
    while (ready.length === 0 && !ended) {
      await pull();
    }
    return ready.shift() ?? null;
  };
  const stream: RawEventStream = {
    status: response.status,
    headers: response.headers,
    next,
    rest: async () => {
      const events: StreamEvent[] = [];
      for (let event = await next(); event; event = await next()) {
        events.push(event);
      }
      return events;
    },
    ending: () => (ready.length === 0 ? ending : undefined),
    close: () => controller.abort(),
  };
  if (registration) {
    // The first event (the answer of a refused subscription) settles it as well.
    await registration.until(
      (async () => {
        while (ready.length === 0 && !ended) {
          await pull();
        }
      })(),
    );
  }
  return stream;
}

/**
 * Subscribes with graphql-sse's own client (distinct connections mode, no retries) and, with
 * `signals`, resolves once the server registered the subscription.
 */
export async function subscribeOverSse<Data>(
  httpUrl: string,
  request: StreamRequest,
  options: { token?: string; signals?: SubscriptionSignals } = {},
): Promise<SseSubscription<Data>> {
  const requestId = randomUUID();
  const client = createClient({
    url: eventStreamUrl(httpUrl),
    retryAttempts: 0,
    headers: {
      'x-request-id': requestId,
      ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
    },
  });
  const results: WireResult<Data>[] = [];
  const waiters: ((result: WireResult<Data>) => void)[] = [];
  let markCompleted!: () => void;
  const completed = new Promise<void>((resolve) => (markCompleted = resolve));
  let markAnswered!: () => void;
  const answered = new Promise<void>((resolve) => (markAnswered = resolve));
  const push = (result: WireResult<Data>) => {
    markAnswered();
    const waiter = waiters.shift();
    if (waiter) {
      waiter(result);
    } else {
      results.push(result);
    }
  };
  const registration = options.signals ? listenForRegistration(options.signals, requestId) : undefined;
  const dispose = client.subscribe<Data>(
    { query: request.query, variables: request.variables, operationName: request.operationName },
    {
      next: (result) => push(result as WireResult<Data>),
      error: (error) => push({ errors: [{ message: String(error) }] }),
      complete: () => {
        markAnswered();
        markCompleted();
      },
    },
  );
  await registration?.until(answered);
  return {
    next: () => {
      const ready = results.shift();
      return ready ? Promise.resolve(ready) : new Promise((resolve) => waiters.push(resolve));
    },
    completed,
    close: async () => {
      dispose();
      client.dispose();
    },
  };
}
