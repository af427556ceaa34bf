import { type DocumentNode, GraphQLError, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { type Viewer } from '../infra/auth';
import { checkOperationLimits, type OperationLimits } from './operation-limits';
import { type RateLimiter } from './rate-limiter';

/** One operation about to run, over HTTP or websocket. */
export interface GuardedOperation {
  readonly document: DocumentNode;
  readonly operation: OperationDefinitionNode;
  readonly variables?: Record<string, unknown>;
  readonly viewer: Viewer | null;
  readonly clientAddress: string;
}

/** Checks an operation before it runs; the errors refuse it (empty: go ahead). */
export type RequestGuard = (request: GuardedOperation) => Promise<GraphQLError[]>;

/**
 * One gate for both transports: operation limits first (free), then the caller's rate budget:
 * mutations against the mutation budget, queries and subscribe operations against the read
 * budget, per user when a valid token came with the request, per IP address otherwise.
 */
export function createRequestGuard(
  schema: GraphQLSchema,
  limits: OperationLimits,
  rateLimiter: RateLimiter,
): RequestGuard {
  return async ({ document, operation, variables, viewer, clientAddress }) => {
    const limitErrors = checkOperationLimits(schema, document, operation, variables, limits);
    if (limitErrors.length > 0) {
      return limitErrors;
    }
    const kind = operation.operation === 'mutation' ? 'mutation' : 'read';
    const identity = viewer ? `user:${viewer.userId}` : `ip:${clientAddress}`;
    const decision = await rateLimiter.consume(kind, identity);
    if (decision.allowed) {
      return [];
    }
    return [
      new GraphQLError(`Too many requests; retry in ${decision.retryAfterSeconds} s.`, {
        extensions: {
          code: 'RATE_LIMITED',
          retryAfterSeconds: decision.retryAfterSeconds,
          http: { status: 429, headers: new Map([['retry-after', String(decision.retryAfterSeconds)]]) },
        },
      }),
    ];
  };
}
