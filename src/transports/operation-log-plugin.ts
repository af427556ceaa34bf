import { type ApolloServerPlugin } from '@apollo/server';
import { type DocumentNode, type GraphQLSchema, type OperationDefinitionNode } from 'graphql';
import { type Context } from '../resolvers/context';
import { ErrorCode } from '../errors/domain-error';
import { WIRE_CODES, wireCode } from '../errors/graphql-error-formatter';
import { type Logger } from '../infra/logger';
import { type Metrics } from '../infra/metrics';
import { rootFields } from '../security/root-fields';

/**
 * The root field an operation runs, as a metric label: a name from the schema, `multiple` or
 * `none`; never text the client chose (operation names and unknown fields stay out of labels).
 */
export function rootFieldLabel(
  schema: GraphQLSchema,
  document: DocumentNode | undefined,
  operation: OperationDefinitionNode | undefined | null,
): string {
  if (!document || !operation) {
    return 'none';
  }
  const names = new Set(rootFields(document, operation).values());
  if (names.size !== 1) {
    return names.size === 0 ? 'none' : 'multiple';
  }
  const [name] = names;
  const known = schema.getRootType(operation.operation)?.getFields() ?? {};
  return name === '__typename' || Object.hasOwn(known, name) ? name : 'none';
}

/**
 * The outcome label of an answer: the contract code of its first error, `ok` without errors.
 * A code outside the contract is counted as an internal error, so labels stay a closed set.
 */
export function outcomeLabel(code: unknown, failed: boolean): string {
  const internal = wireCode(ErrorCode.InternalServerError);
  if (typeof code === 'string') {
    return WIRE_CODES.has(code) ? code : internal;
  }
  return failed ? internal : 'ok';
}

/** One log line and one latency sample per HTTP operation; never the token. */
export function operationLogPlugin(
  schema: GraphQLSchema,
  logger: Logger,
  metrics: Metrics,
): ApolloServerPlugin<Context> {
  return {
    requestDidStart: async ({ contextValue }) => {
      const started = process.hrtime.bigint();
      return {
        willSendResponse: async ({ document, operation, operationName, response, errors }) => {
          const seconds = Number(process.hrtime.bigint() - started) / 1e9;
          const body = response.body.kind === 'single' ? response.body.singleResult : undefined;
          // The formatted errors carry the contract's codes; raw ones are a fallback.
          const code = (body?.errors?.[0] ?? errors?.[0])?.extensions?.code;
          const outcome = outcomeLabel(code, Boolean(errors?.length));
          // Labels from closed sets only: client text would grow the series without bound.
          metrics.operationDuration.observe(
            {
              field: rootFieldLabel(schema, document, operation),
              type: operation?.operation ?? 'none',
              outcome,
            },
            seconds,
          );
          logger.info(
            {
              requestId: contextValue.requestId,
              // Client text: bounded, so a 64 KB name cannot swell every log line.
              operationName: (operationName ?? 'anonymous').slice(0, 100),
              operationType: operation?.operation,
              userId: contextValue.viewer?.userId,
              durationMs: Math.round(seconds * 1_000_000) / 1_000,
              outcome,
            },
            'GraphQL operation',
          );
        },
      };
    },
  };
}
