import {
  type DocumentNode,
  GraphQLError,
  type GraphQLSchema,
  NoSchemaIntrospectionCustomRule,
  parse,
  specifiedRules,
  type ValidationRule,
  validate,
} from 'graphql';
import { ErrorCode } from '../errors/domain-error';
import { requestRefusal } from '../errors/graphql-error-formatter';
import { checkDocumentSize } from '../security/document-size';
import { withCode } from './refusals';

/** The parsing limits every transport applies (`config.limits` fits). */
export interface DocumentLimits {
  readonly maxTokens: number;
  readonly maxSelections: number;
  readonly introspection: boolean;
}

/** A parsed document, or the errors refusing it. */
export type ParsedDocument =
  | { readonly document: DocumentNode; readonly errors?: undefined }
  | { readonly document?: undefined; readonly errors: readonly GraphQLError[] };

/**
 * Parses `query` within the token limit, then refuses documents with too many selections
 * (validation's cost grows with the square of the selections, so this runs before it).
 * Apollo parses HTTP requests itself with the same limits; transports without Apollo use this.
 */
export function parseDocument(query: string, limits: DocumentLimits): ParsedDocument {
  let document: DocumentNode;
  try {
    document = parse(query, { maxTokens: limits.maxTokens });
  } catch (error) {
    const syntax = error instanceof GraphQLError ? error : new GraphQLError('Syntax error');
    return { errors: [withCode(syntax, ErrorCode.GraphQLParseFailed)] };
  }
  const tooLarge = checkDocumentSize(document, limits.maxSelections);
  return tooLarge ? { errors: [requestRefusal(tooLarge)] } : { document };
}

/** The validation rules of a deployment: the specified ones, and no introspection unless enabled. */
export function validationRules(limits: Pick<DocumentLimits, 'introspection'>): readonly ValidationRule[] {
  return limits.introspection ? specifiedRules : [...specifiedRules, NoSchemaIntrospectionCustomRule];
}

/** Validates `document` against `schema`; the errors carry the table's validation code. */
export function validateDocument(
  schema: GraphQLSchema,
  document: DocumentNode,
  rules: readonly ValidationRule[],
): GraphQLError[] {
  return validate(schema, document, rules).map((error) => withCode(error, ErrorCode.GraphQLValidationFailed));
}
