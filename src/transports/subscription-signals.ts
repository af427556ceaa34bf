import { EventEmitter } from 'node:events';
import { type ExecutionResult } from 'graphql';

/**
 * Says when a websocket subscription is registered with the live pub-sub (or its shared
 * channel): events committed from then on reach it. graphql-ws handles messages concurrently,
 * so a round trip on the same socket proves nothing; tests wait on this instead, as
 * graphql-ws's own test servers do. `id` is the client's subscription id.
 */
export class SubscriptionSignals extends EventEmitter<{ subscribed: [id: string] }> {}

/**
 * `source` announcing its first pull: graphql-ws pulls right after storing the subscription,
 * and the live pub-sub attaches its listener on that first pull (its streams start lazily).
 * Patched in place, so the events themselves pay nothing.
 */
export function announceFirstPull(
  source: AsyncGenerator<ExecutionResult>,
  announce: () => void,
): AsyncGenerator<ExecutionResult> {
  const next = source.next.bind(source);
  source.next = (...args) => {
    const pulled = next(...args);
    source.next = next;
    announce();
    return pulled;
  };
  return source;
}
