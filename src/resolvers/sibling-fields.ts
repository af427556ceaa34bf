import { type GraphQLResolveInfo, Kind, type SelectionSetNode } from 'graphql';

/**
 * The names of the fields selected beside the field being resolved (its siblings in the
 * parent's selection set, through fragments), found by following `info.path` from the
 * operation's root. Lets a field choose a loader that also serves its siblings, so that the two
 * are read in one statement (one snapshot).
 */
export function siblingFieldNames(info: GraphQLResolveInfo): Set<string> {
  const keys: string[] = [];
  for (let step: GraphQLResolveInfo['path'] | undefined = info.path.prev; step; step = step.prev) {
    if (typeof step.key === 'string') {
      keys.unshift(step.key);
    }
  }
  let selectionSets: SelectionSetNode[] = [info.operation.selectionSet];
  for (const key of keys) {
    selectionSets = fieldsOf(selectionSets, info)
      .filter((field) => (field.alias ?? field.name).value === key && field.selectionSet)
      .map((field) => field.selectionSet as SelectionSetNode);
  }
  return new Set(fieldsOf(selectionSets, info).map((field) => field.name.value));
}

function fieldsOf(selectionSets: readonly SelectionSetNode[], info: GraphQLResolveInfo) {
  const fields = [];
  const pending = [...selectionSets];
  const walked = new Set<string>();
  while (pending.length > 0) {
    for (const selection of (pending.pop() as SelectionSetNode).selections) {
      if (selection.kind === Kind.FIELD) {
        fields.push(selection);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        pending.push(selection.selectionSet);
      } else if (!walked.has(selection.name.value)) {
        walked.add(selection.name.value);
        const fragment = info.fragments[selection.name.value];
        if (fragment) {
          pending.push(fragment.selectionSet);
        }
      }
    }
  }
  return fields;
}
