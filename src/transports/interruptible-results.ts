import { type ExecutionResult, locatedError } from 'graphql';

/** A subscription's results that the transport can end with a last result of its own. */
export interface InterruptibleResults {
  /**
   * The source's results in order. When the source throws (a domain error such as
   * `RESYNC_REQUIRED`, or anything unexpected), one last result carries that error and the
   * results end: the transport sends it as a `next` before `complete`. Returning it (the client
   * left) returns the source without waiting for its next event.
   */
  readonly results: AsyncGenerator<ExecutionResult>;
  /**
   * Ends the results: `last` (e.g. "the token expired") is delivered after the result in
   * flight, if any, then the results end and the source is returned. Later calls do nothing.
   */
  interrupt(last: ExecutionResult): void;
}

/** The result that carries a failure of the source to the client; the one error formatter masks it if unknown. */
export function failureResult(error: unknown): ExecutionResult {
  return { errors: [locatedError(error, undefined)] };
}

type Step =
  | { readonly kind: 'next'; readonly step: IteratorResult<ExecutionResult> }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'interrupted' };

/**
 * Wraps a subscription's source so that its end can be decided from outside (token expiry)
 * and so that a failing source still ends with a result the client can read. graphql-js lets
 * an error thrown by a subscription's source escape the result stream; graphql-sse would then
 * drop the stream without telling the client why.
 */
export function interruptibleResults(source: AsyncGenerator<ExecutionResult>): InterruptibleResults {
  let last: ExecutionResult | null = null;
  let interrupted = false;
  let started = false;
  let wake!: () => void;
  const interruption = new Promise<Step>((resolve) => {
    wake = () => resolve({ kind: 'interrupted' });
  });
  const stop = () => {
    interrupted = true;
    wake();
  };
  const returnSource = () => {
    // Not awaited: a source busy waiting for its next event may only settle with that event.
    void Promise.resolve(source.return(undefined)).catch(() => undefined);
  };

  async function* run(): AsyncGenerator<ExecutionResult> {
    started = true;
    try {
      while (!interrupted) {
        const step = await Promise.race([
          source.next().then(
            (next): Step => ({ kind: 'next', step: next }),
            (error: unknown): Step => ({ kind: 'failed', error }),
          ),
          interruption,
        ]);
        if (step.kind === 'failed') {
          yield failureResult(step.error);
          return;
        }
        if (step.kind === 'interrupted' || step.step.done) {
          break;
        }
        yield step.step.value;
      }
      if (last) {
        yield last;
      }
    } finally {
      interrupted = true;
      returnSource();
    }
  }

  const results = run();
  const finish = results.return.bind(results);
  results.return = (value) => {
    last = null;
    stop();
    if (!started) {
      // A generator returned before its first pull never runs its `finally`.
      returnSource();
    }
    return finish(value);
  };
  return {
    results,
    interrupt: (result) => {
      if (!interrupted) {
        last = result;
        stop();
      }
    },
  };
}
