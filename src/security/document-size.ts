import { type DocumentNode, Kind, parse, type SelectionSetNode } from 'graphql';
import { DomainError, ErrorCode } from '../errors/domain-error';

/*
 * Size checks made on a document before it is validated or measured, since validation itself
 * is the work a huge document would make the server do.
 */

/**
 * Refuses a document with more than `maxSelections` field selections, fragment spreads and
 * inline fragments, counted in one linear pass. It runs before validation because graphql-js's
 * "fields can be merged" rule is quadratic in the selections: a 10 KB document of repeated
 * fields would otherwise hold the event loop for a large part of a second.
 */
export function checkDocumentSize(document: DocumentNode, maxSelections: number): DomainError | undefined {
  let selections = 0;
  const pending: SelectionSetNode[] = [];
  for (const definition of document.definitions) {
    if ('selectionSet' in definition && definition.selectionSet) {
      pending.push(definition.selectionSet);
    }
  }
  for (let set = pending.pop(); set; set = pending.pop()) {
    selections += set.selections.length;
    if (selections > maxSelections) {
      return new DomainError(
        ErrorCode.GraphQLValidationFailed,
        `The document has more than ${maxSelections} selections; send a smaller one.`,
        { limit: 'selections', max: maxSelections },
      );
    }
    for (const selection of set.selections) {
      if (selection.kind !== Kind.FRAGMENT_SPREAD && selection.selectionSet) {
        pending.push(selection.selectionSet);
      }
    }
  }
  return undefined;
}

// Every selection starts with a name, so a text with few names has few selections.
const NAME = /[_A-Za-z][_0-9A-Za-z]*/g;

/**
 * {@link checkDocumentSize} for a document still in text form, for transports that parse it
 * later themselves (Apollo): a count of names (microseconds) clears almost every document, and
 * only a text with more names than `maxSelections` is parsed to count exactly. A text that does
 * not parse passes: the transport reports its syntax error.
 */
export function checkDocumentSourceSize(
  source: string,
  limits: { readonly maxSelections: number; readonly maxTokens: number },
): DomainError | undefined {
  let names = 0;
  NAME.lastIndex = 0;
  while (NAME.exec(source) !== null) {
    names += 1;
    if (names > limits.maxSelections) {
      let document: DocumentNode;
      try {
        document = parse(source, { maxTokens: limits.maxTokens, noLocation: true });
      } catch {
        return undefined;
      }
      return checkDocumentSize(document, limits.maxSelections);
    }
  }
  return undefined;
}
