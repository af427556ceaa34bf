import {
  type DocumentNode,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';

/*
 * The root fields of an operation, read from its document alone (no schema): the rate budget
 * charges by them and the operation log names them.
 */

/**
 * The root fields an operation runs, by response name (alias or name) to field name: through
 * inline fragments and fragments spread at the root, `__typename` and introspection included.
 * Two selections of one response name (allowed only when identical) run once, and so does a
 * fragment spread twice.
 */
export function rootFields(
  document: DocumentNode,
  operation: OperationDefinitionNode,
): ReadonlyMap<string, string> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const fields = new Map<string, string>();
  const spreadFragments = new Set<string>();
  const collect = (selectionSet: SelectionSetNode): void => {
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        fields.set(selection.alias?.value ?? selection.name.value, selection.name.value);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet);
      } else if (!spreadFragments.has(selection.name.value)) {
        spreadFragments.add(selection.name.value);
        const fragment = fragments.get(selection.name.value);
        if (fragment) {
          collect(fragment.selectionSet);
        }
      }
    }
  };
  collect(operation.selectionSet);
  return fields;
}

/**
 * What an operation costs against the rate budget (docs/contract.md, "Limits"): each root field it runs
 * (see {@link rootFields}) is 1; a document is at least 1.
 */
export function rootFieldCount(document: DocumentNode, operation: OperationDefinitionNode): number {
  return Math.max(1, rootFields(document, operation).size);
}
