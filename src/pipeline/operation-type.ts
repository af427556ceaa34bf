import { Lexer, OperationTypeNode, Source, TokenKind } from 'graphql';

const OPERATION_KEYWORDS: ReadonlyMap<string, OperationTypeNode> = new Map([
  ['query', OperationTypeNode.QUERY],
  ['mutation', OperationTypeNode.MUTATION],
  ['subscription', OperationTypeNode.SUBSCRIPTION],
]);

const OPENING: ReadonlySet<TokenKind> = new Set([TokenKind.BRACE_L, TokenKind.PAREN_L, TokenKind.BRACKET_L]);
const CLOSING: ReadonlySet<TokenKind> = new Set([TokenKind.BRACE_R, TokenKind.PAREN_R, TokenKind.BRACKET_R]);

/**
 * The type of the operation `operationName` picks in `query`, read from its tokens alone (no
 * syntax tree): what admission control needs to know before anything costly runs. It picks
 * as graphql-js's `getOperationAST` does — the operation so named, or the only one when no name
 * is given — and answers undefined when there is none, when the text does not lex, or past
 * `maxTokens` tokens: such a document is refused by the parser anyway.
 */
export function operationTypeOf(
  query: unknown,
  operationName: unknown,
  maxTokens: number,
): OperationTypeNode | undefined {
  if (typeof query !== 'string') {
    return undefined;
  }
  const wanted = typeof operationName === 'string' && operationName !== '' ? operationName : undefined;
  const operations: { readonly type: OperationTypeNode; readonly name: string | undefined }[] = [];
  try {
    const lexer = new Lexer(new Source(query));
    let depth = 0;
    // At the top level, between definitions: the next token starts one.
    let betweenDefinitions = true;
    for (let count = 1; ; count += 1) {
      const token = lexer.advance();
      if (token.kind === TokenKind.EOF) {
        break;
      }
      if (count > maxTokens) {
        return undefined;
      }
      if (betweenDefinitions) {
        betweenDefinitions = false;
        if (token.kind === TokenKind.BRACE_L) {
          operations.push({ type: OperationTypeNode.QUERY, name: undefined });
        } else if (token.kind === TokenKind.NAME && OPERATION_KEYWORDS.has(token.value)) {
          const next = lexer.lookahead();
          operations.push({
            type: OPERATION_KEYWORDS.get(token.value) as OperationTypeNode,
            name: next.kind === TokenKind.NAME ? next.value : undefined,
          });
        }
      }
      if (OPENING.has(token.kind)) {
        depth += 1;
      } else if (CLOSING.has(token.kind)) {
        depth -= 1;
        // A definition ends with the brace closing its selection set.
        betweenDefinitions = depth === 0 && token.kind === TokenKind.BRACE_R;
      }
    }
  } catch {
    return undefined;
  }
  if (wanted === undefined) {
    return operations.length === 1 ? operations[0].type : undefined;
  }
  return operations.find((operation) => operation.name === wanted)?.type;
}
