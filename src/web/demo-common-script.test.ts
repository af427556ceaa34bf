import { runInNewContext } from 'node:vm';
import { DEMO_COMMON_SCRIPT } from './demo-common-script';

interface DemoHelpers {
  formatMoney(cents: number): string;
  formatCountdown(seconds: number): string;
  describeProblem(problem: unknown, context?: Record<string, unknown>): string;
  describeSocketClose(event: unknown): string;
  tokenSubject(token: string): { userId: string; admin: boolean } | null;
  GraphQLProblem: new (kind: string, status: number, errors: unknown[]) => unknown;
  eventStreamParser(): { push(text: string): { event: string; data: string }[] };
  subscribeOverEventStream(url: string, request: Record<string, unknown>, sink: EventStreamSink): () => void;
  isFatalSocketClose(code: number): boolean;
  liveEnding(problem: unknown): 'resync' | 'retry' | 'stop';
}

interface EventStreamSink {
  open(): void;
  next(result: unknown): void;
  end(problem: unknown): void;
}

// The script as a browser runs it, in a context with no DOM: loading it must not touch one.
function loadHelpers(globals: Record<string, unknown> = {}): DemoHelpers {
  return runInNewContext(`${DEMO_COMMON_SCRIPT}\nPoltronaDemo;`, {
    atob,
    setTimeout,
    ...globals,
  }) as DemoHelpers;
}

const labels: Record<string, string> = { 'id-c7': 'C7', 'id-c8': 'C8' };
const context = { seatLabel: (id: string) => labels[id], signedIn: true };

describe('demo page helpers (browser script)', () => {
  const demo = loadHelpers();
  const graphqlError = (code: string, extensions: Record<string, unknown> = {}, message = 'Server text') =>
    new demo.GraphQLProblem('graphql', 200, [{ message, extensions: { code, ...extensions } }]);

  it('formats cents as money and seconds as a countdown', () => {
    expect(demo.formatMoney(1250)).toBe('12.50');
    expect(demo.formatMoney(0)).toBe('0.00');
    expect(demo.formatMoney(123456789)).toBe('1,234,567.89');
    expect(demo.formatCountdown(75)).toBe('1:15');
    expect(demo.formatCountdown(4.2)).toBe('0:05');
    expect(demo.formatCountdown(-3)).toBe('0:00');
  });

  it('names the seats someone else took, by label', () => {
    expect(demo.describeProblem(graphqlError('SEAT_UNAVAILABLE', { seatIds: ['id-c7'] }), context)).toBe(
      'Someone else just took C7, pick another seat.',
    );
    expect(
      demo.describeProblem(graphqlError('SEAT_UNAVAILABLE', { seatIds: ['id-c7', 'id-c8'] }), context),
    ).toBe('Someone else just took C7 and C8, pick other seats.');
  });

  it('names the seats a selection would leave alone', () => {
    expect(demo.describeProblem(graphqlError('SEAT_GAP', { seatIds: ['id-c8'] }), context)).toBe(
      'That would leave C8 alone; take it too or pick seats that leave two together.',
    );
    expect(demo.describeProblem(graphqlError('SEAT_GAP', { seatIds: ['id-c7', 'id-c8'] }), context)).toBe(
      'That would leave C7 and C8 alone; take them too or pick seats that leave two together.',
    );
    expect(demo.describeProblem(graphqlError('SEAT_GAP', { seatIds: [] }), context)).toBe(
      'That would leave a seat alone; take it too or pick seats that leave two together.',
    );
  });

  it('says what best seats were asked for when there are none', () => {
    const noBlock = graphqlError('SEAT_UNAVAILABLE', { reason: 'NO_ADJACENT_BLOCK', seatIds: [] });
    const asked = (bestAvailable: Record<string, unknown>) =>
      demo.describeProblem(noBlock, { ...context, bestAvailable });
    expect(asked({ quantity: 4, category: 'PREMIUM', accessible: false })).toBe(
      'No 4 seats side by side are free in PREMIUM.',
    );
    expect(asked({ quantity: 2, category: null, accessible: false })).toBe(
      'No 2 seats side by side are free.',
    );
    expect(asked({ quantity: 1, category: null, accessible: false })).toBe('No single seat is free.');
    expect(asked({ quantity: 3, category: 'STANDARD', accessible: true })).toBe(
      'No wheelchair space with 2 seats beside it is free in STANDARD.',
    );
    expect(asked({ quantity: 2, category: null, accessible: true })).toBe(
      'No wheelchair space with 1 seat beside it is free.',
    );
    expect(asked({ quantity: 1, category: null, accessible: true })).toBe('No wheelchair space is free.');
    expect(demo.describeProblem(noBlock, context)).toMatch(/^No block of seats side by side is free/);
    expect(
      demo.describeProblem(graphqlError('SEAT_UNAVAILABLE', { reason: 'CONTENDED', seatIds: [] }), {
        ...context,
        bestAvailable: { quantity: 2 },
      }),
    ).toBe('Other people were taking those seats at the same moment: try again.');
  });

  it('reads LIMIT_EXCEEDED as the action means it', () => {
    const limit = graphqlError('LIMIT_EXCEEDED');
    expect(demo.describeProblem(limit, context)).toMatch(/^You already hold as many reservations as allowed/);
    expect(
      demo.describeProblem(limit, { ...context, limitExceeded: 'This hold cannot be extended any more.' }),
    ).toBe('This hold cannot be extended any more.');
  });

  it('turns codes into sentences, and uses the server message where it is the best there is', () => {
    expect(
      demo.describeProblem(graphqlError('BAD_USER_INPUT', { rule: 'COMPANION_NEEDS_WHEELCHAIR' }), context),
    ).toMatch(/companion seat can only be booked together with a wheelchair space/);
    expect(demo.describeProblem(graphqlError('BAD_USER_INPUT', {}, 'Pick 1 to 10 seats'), context)).toBe(
      'Pick 1 to 10 seats.',
    );
    expect(demo.describeProblem(graphqlError('UNAUTHENTICATED'), { signedIn: false })).toMatch(
      /^Pick a user/,
    );
    expect(demo.describeProblem(graphqlError('UNAUTHENTICATED'), { signedIn: true })).toMatch(/not accepted/);
    expect(demo.describeProblem(graphqlError('RATE_LIMITED', { retryAfterSeconds: 3 }))).toBe(
      'Too many requests just now: try again in 3 seconds.',
    );
    expect(demo.describeProblem(graphqlError('INTERNAL_SERVER_ERROR', {}, 'Internal server error'))).toMatch(
      /^Something went wrong on our side/,
    );
    expect(demo.describeProblem(new demo.GraphQLProblem('network', 0, []))).toMatch(
      /^Could not reach the server/,
    );
    expect(demo.describeProblem(new demo.GraphQLProblem('http', 502, []))).toMatch(/HTTP 502/);
  });

  it('never shows "[object …]", whatever failed', () => {
    class FakeEvent {
      readonly type = 'error';
    }
    const problems: unknown[] = [
      new FakeEvent(),
      {},
      null,
      undefined,
      42,
      [],
      [{}],
      [{ message: { nested: true }, extensions: { code: 123 } }],
      { code: 1006, reason: '', wasClean: false },
      new Error(''),
      graphqlError('SOMETHING_NEW', {}, ''),
    ];
    for (const problem of problems) {
      const text = demo.describeProblem(problem, context);
      expect(text).toMatch(/^[A-Z].*[.…]$/);
      expect(text).not.toMatch(/\[object|undefined|null/);
    }
  });

  it('says what a closed websocket means', () => {
    expect(demo.describeSocketClose({ code: 1006, reason: '' })).toBe(
      'Live updates disconnected — reconnecting…',
    );
    expect(demo.describeSocketClose({ code: 4429, reason: '' })).toMatch(/Too many live connections/);
    expect(demo.describeSocketClose({ code: 4401, reason: '' })).toMatch(/token expired/);
    expect(demo.describeSocketClose(new Event('error'))).toBe('Live updates disconnected — reconnecting…');
  });

  it('reads the user a token names, for display only', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'zoë', roles: ['admin'] })).toString('base64url');
    expect(demo.tokenSubject(`header.${payload}.signature`)).toEqual({ userId: 'zoë', admin: true });
    expect(demo.tokenSubject('not a token')).toBeNull();
  });

  it('parses an event stream however it is cut into chunks', () => {
    const stream =
      ': keep-alive\r\n\r\nevent: next\r\ndata: {"data":{"a":1}}\r\n\r\n' +
      'event: next\ndata: {"data":\ndata: {"b":2}}\n\nevent: complete\ndata:\n\n';
    const expected = [
      { event: 'next', data: '{"data":{"a":1}}' },
      { event: 'next', data: '{"data":\n{"b":2}}' },
      { event: 'complete', data: '' },
    ];
    for (const size of [1, 2, 3, 7, stream.length]) {
      const parser = demo.eventStreamParser();
      const events = [];
      for (let at = 0; at < stream.length; at += size) {
        events.push(...parser.push(stream.slice(at, at + size)));
      }
      expect(JSON.parse(JSON.stringify(events))).toEqual(expected);
    }
    // An event the stream never finished is not one.
    expect(demo.eventStreamParser().push('event: next\ndata: {}\n')).toHaveLength(0);
  });

  /** subscribeOverEventStream against a fake fetch that answers with `chunks`, as a stream. */
  async function overEventStream(
    answer: { status?: number; type?: string; chunks?: string[]; later?: string[]; body?: string },
    until: 'end' | 'next' = 'end',
  ): Promise<{ calls: string[]; request: { url: string; init: RequestInit } | null; stop: () => void }> {
    const calls: string[] = [];
    let request: { url: string; init: RequestInit } | null = null;
    const fetch = (url: string, init: RequestInit) => {
      request = { url, init };
      const encoder = new TextEncoder();
      const body =
        answer.body ??
        new ReadableStream<Uint8Array>({
          start(controller) {
            for (const chunk of answer.chunks ?? []) {
              controller.enqueue(encoder.encode(chunk));
            }
            // Chunks that come later (when the test has had its say), then the end.
            setTimeout(() => {
              for (const chunk of answer.later ?? []) {
                controller.enqueue(encoder.encode(chunk));
              }
              controller.close();
            }, 10);
          },
        });
      return Promise.resolve(
        new Response(body, {
          status: answer.status ?? 200,
          headers: { 'content-type': answer.type ?? 'text/event-stream; charset=utf-8' },
        }),
      );
    };
    const streaming = loadHelpers({ fetch, AbortController, TextDecoder });
    let done: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const stop = streaming.subscribeOverEventStream(
      '/graphql/stream',
      { query: 'subscription { x }', variables: { after: 3 }, authorization: 'Bearer t' },
      {
        open: () => calls.push('open'),
        next: (result) => {
          calls.push(`next ${JSON.stringify(result)}`);
          if (until === 'next') {
            done();
          }
        },
        end: (problem) => {
          calls.push(`end ${JSON.stringify(problem)}`);
          done();
        },
      },
    );
    await finished;
    return { calls, request, stop };
  }

  it('follows a subscription over Server-Sent Events: the request, results, errors and drops', async () => {
    const live = await overEventStream({
      chunks: [
        'event: next\ndata: {"data":{"x":1}}\n\n',
        'event: ne',
        'xt\ndata: {"data":{"x":2}}\n\n',
        'event: complete\ndata:\n\n',
      ],
    });
    expect(live.calls).toEqual(['open', 'next {"data":{"x":1}}', 'next {"data":{"x":2}}', 'end null']);
    expect(live.request?.url).toBe('/graphql/stream');
    expect(live.request?.init).toMatchObject({
      method: 'POST',
      headers: { accept: 'text/event-stream', authorization: 'Bearer t', 'content-type': 'application/json' },
      body: '{"query":"subscription { x }","variables":{"after":3}}',
    });

    // RESYNC_REQUIRED: a next carrying the error, then complete: it ends with the errors.
    const refused = await overEventStream({
      chunks: [
        'event: next\ndata: {"errors":[{"message":"m","extensions":{"code":"RESYNC_REQUIRED"}}]}\n\nevent: complete\ndata:\n\n',
      ],
    });
    expect(refused.calls).toEqual(['open', 'end [{"message":"m","extensions":{"code":"RESYNC_REQUIRED"}}]']);

    // Cut off without complete: a network problem, to retry.
    const cut = await overEventStream({
      chunks: ['event: next\ndata: {"data":{"x":1}}\n\nevent: next\ndata: {'],
    });
    expect(cut.calls).toEqual([
      'open',
      'next {"data":{"x":1}}',
      'end {"name":"GraphQLProblem","kind":"network","status":0,"errors":[],"code":"","message":"GraphQL request failed (network)"}',
    ]);

    // Refused before streaming (a JSON answer): its errors, or the HTTP status.
    const limited = await overEventStream({
      status: 429,
      type: 'application/json',
      body: '{"errors":[{"message":"m","extensions":{"code":"RATE_LIMITED"}}]}',
    });
    expect(limited.calls).toEqual(['end [{"message":"m","extensions":{"code":"RATE_LIMITED"}}]']);
    const broken = await overEventStream({ status: 502, type: 'text/html', body: '<h1>Bad gateway</h1>' });
    expect(broken.calls).toEqual([expect.stringMatching(/^end .*"kind":"http","status":502/)]);
  });

  it('stops following a stream when asked, and says nothing more', async () => {
    const followed = await overEventStream(
      {
        chunks: ['event: next\ndata: {"data":{"x":1}}\n\n'],
        later: ['event: next\ndata: {"data":{"x":2}}\n\n'],
      },
      'next',
    );
    followed.stop();
    // A check that nothing happens. The later chunk comes on the fake stream's 10 ms timer,
    // armed before this one: the script has read it (in that timer's microtasks) before this
    // timer fires, however slow the machine, so waiting never fails a script that stops.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(followed.calls).toEqual(['open', 'next {"data":{"x":1}}']);
  });

  it('decides what a live subscription that ended needs: resync, retry or stop', () => {
    const errors = (...codes: string[]) => codes.map((code) => ({ message: 'm', extensions: { code } }));
    expect(demo.liveEnding(errors('RESYNC_REQUIRED'))).toBe('resync');
    expect(demo.liveEnding(errors('RATE_LIMITED'))).toBe('retry');
    expect(demo.liveEnding(errors('NOT_FOUND'))).toBe('stop');
    expect(demo.liveEnding(errors('BAD_USER_INPUT', 'RATE_LIMITED'))).toBe('stop');
    expect(demo.liveEnding(null)).toBe('retry');
    expect(demo.liveEnding(new demo.GraphQLProblem('network', 0, []))).toBe('retry');
    expect(demo.liveEnding(new demo.GraphQLProblem('http', 503, []))).toBe('retry');
    expect(demo.liveEnding(new demo.GraphQLProblem('http', 400, []))).toBe('stop');
    expect(demo.liveEnding({ code: 1006, reason: '' })).toBe('retry');
    expect(demo.liveEnding({ code: 1012, reason: 'Service Restart' })).toBe('retry');
    expect(demo.liveEnding({ code: 4401, reason: 'Unauthorized' })).toBe('stop');
    expect(demo.liveEnding({ code: 4429, reason: '' })).toBe('stop');
    expect(demo.liveEnding({ code: 4403, reason: 'Forbidden' })).toBe('retry');
    expect(demo.isFatalSocketClose(1002)).toBe(true);
    expect(demo.isFatalSocketClose(1001)).toBe(false);
  });
});
