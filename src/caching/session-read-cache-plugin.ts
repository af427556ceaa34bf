import { type ApolloServerPlugin, type BaseContext, type GraphQLResponse, HeaderMap } from '@apollo/server';
import { type FormattedExecutionResult } from 'graphql';
import { type Flight, type SessionReadCache } from './session-read-cache';
import { sessionReadKey, sessionReadOf } from './session-reads';

function cachedResponse(result: FormattedExecutionResult): GraphQLResponse {
  return {
    http: { status: undefined, headers: new HeaderMap() },
    body: { kind: 'single', singleResult: result },
  };
}

/**
 * Serves public session queries from `cache`: after parsing, validation, limits and rate
 * budget (which every request still pays), before execution. It reads nothing of the
 * request's context, so any context type fits.
 */
export function sessionReadCachePlugin<TContext extends BaseContext>(
  cache: SessionReadCache,
): ApolloServerPlugin<TContext> {
  return {
    requestDidStart: async () => {
      if (!cache.enabled) {
        return {};
      }
      let key: string | null = null;
      let flight: Flight | null = null;
      return {
        responseForOperation: async ({ operation, queryHash, request, document }) => {
          const read = sessionReadOf(operation, request.variables, document);
          if (!read || queryHash === undefined) {
            return null;
          }
          key = sessionReadKey(queryHash, request.operationName, operation, read, request.variables);
          const stored = cache.lookup(key) ?? (await cache.inFlight(key));
          if (stored) {
            return cachedResponse(stored);
          }
          flight = cache.begin(key, read.sessionIds);
          return null;
        },
        willSendResponse: async ({ response }) => {
          if (!key || !flight) {
            return;
          }
          const result = response.body.kind === 'single' ? response.body.singleResult : null;
          const cacheable = result !== null && !result.errors && result.data !== undefined;
          // Awaited: the next identical request must find the result stored.
          await cache.finish(key, flight, cacheable ? result : null);
        },
      };
    },
  };
}
