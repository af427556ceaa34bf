import {
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { requestRefusal } from '../errors/graphql-error-formatter';
import { type Viewer } from '../infra/auth';
import { checkOperationLimits, type OperationLimits } from './operation-limits';
import { rootFieldCount } from './root-fields';
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
 * budget, per user when a valid token came with the request, per IP address otherwise. An
 * operation costs its root fields (see {@link rootFieldCount}), so 16 aliased mutations in one
 * document spend 16 of the budget.
 *
 * Refusals are request refusals (`requestRefusal`): outside the limits, GRAPHQL_VALIDATION_FAILED
 * with HTTP 400; over the budget, RATE_LIMITED with HTTP 429, `retryAfterSeconds` and a
 * `Retry-After` header.
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
    const decision = await rateLimiter.consume(kind, identity, rootFieldCount(document, operation));
    if (decision.allowed) {
      return [];
    }
    return [
      requestRefusal(
        new DomainError(
          ErrorCode.RateLimited,
          `Too many requests; retry in ${decision.retryAfterSeconds} s.`,
          { retryAfterSeconds: decision.retryAfterSeconds },
        ),
      ),
    ];
  };
}
