import { GraphQLError } from 'graphql';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { requestRefusal, wireCode } from '../errors/graphql-error-formatter';

/**
 * graphql-js's own error (parse, validation, variable coercion), answered under one of the
 * table's codes: Apollo codes these itself over HTTP, other transports get the same codes here.
 */
export function withCode(error: GraphQLError, code: ErrorCode): GraphQLError {
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    extensions: { ...error.extensions, code: wireCode(code) },
  });
}

/** The refusal of an `operationName` the document does not contain (or of an ambiguous document). */
export function operationNotFound(operationName: string | null | undefined): GraphQLError {
  return requestRefusal(
    new DomainError(
      ErrorCode.BadUserInput,
      operationName
        ? `The document has no operation named "${operationName.slice(0, 100)}".`
        : 'The document has several operations: say which one with operationName.',
      { field: 'operationName' },
    ),
  );
}

/** The refusal of a subscription by a transport that cannot stream results; `message` says where to go. */
export function subscriptionNotServed(message: string): GraphQLError {
  return requestRefusal(new DomainError(ErrorCode.BadUserInput, message, { field: 'query' }));
}

/** The refusal of a query or mutation by a transport that serves only subscriptions; `message` says where to go. */
export function operationTypeNotServed(message: string): GraphQLError {
  return requestRefusal(new DomainError(ErrorCode.BadUserInput, message, { field: 'query' }));
}
