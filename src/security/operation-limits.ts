import {
  type DocumentNode,
  type GraphQLError,
  type GraphQLSchema,
  type OperationDefinitionNode,
} from 'graphql';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { requestRefusal } from '../errors/graphql-error-formatter';
import { measureOperation, type OperationMeasure } from './operation-measure';

/*
 * The operation limits and their refusals: the measuring is in `operation-measure.ts`, the
 * document-size checks made before validation in `document-size.ts`.
 */

/** The limits an operation must fit in (OWASP GraphQL cheat sheet). */
export interface OperationLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxCost: number;
}

/**
 * The limit errors of an operation (empty when it fits), rejected before execution: each a
 * request refusal coded GRAPHQL_VALIDATION_FAILED (HTTP 400) naming the limit, its maximum and
 * the operation's measure.
 */
export function checkOperationLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  limits: OperationLimits,
): GraphQLError[] {
  const measure = measureOperation(schema, document, operation, variables);
  const errors: GraphQLError[] = [];
  // A refusal of the whole request: HTTP 400, `extensions: { code, limit, max, actual }`.
  const refuse = (limit: keyof OperationMeasure, max: number, message: string) =>
    errors.push(
      requestRefusal(
        new DomainError(ErrorCode.GraphQLValidationFailed, message, { limit, max, actual: measure[limit] }),
      ),
    );
  if (measure.depth > limits.maxDepth) {
    refuse(
      'depth',
      limits.maxDepth,
      `The operation is ${measure.depth} levels deep; at most ${limits.maxDepth} are allowed.`,
    );
  }
  if (measure.aliases > limits.maxAliases) {
    refuse(
      'aliases',
      limits.maxAliases,
      `The operation uses ${measure.aliases} aliases; at most ${limits.maxAliases} are allowed.`,
    );
  }
  if (measure.cost > limits.maxCost) {
    refuse(
      'cost',
      limits.maxCost,
      `The operation would cost ${measure.cost}; the budget is ${limits.maxCost}. Ask for smaller pages.`,
    );
  }
  return errors;
}
