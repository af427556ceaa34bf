import { type DocumentNode, visit } from 'graphql';

/** How many AST nodes a document has: the size that measuring it must stay linear in. */
export function nodeCount(document: DocumentNode): number {
  let count = 0;
  visit(document, {
    enter: () => {
      count += 1;
    },
  });
  return count;
}

/**
 * `{ ...F1 }` and fragments F1..F{levels}, each spreading the next twice; the last holds
 * `body`: about a kilobyte at 30 levels, yet `body` is reached 2^29 times when fragments are
 * walked at every spread.
 */
export function doublingChain(levels: number, body: string): string {
  const fragments = Array.from({ length: levels - 1 }, (_, index) => {
    const next = `F${index + 2}`;
    return `fragment F${index + 1} on Query { ...${next} ...${next} }`;
  });
  return `{ ...F1 } ${fragments.join(' ')} fragment F${levels} on Query { ${body} }`;
}
