import {
  type DocumentNode,
  type FragmentDefinitionNode,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  valueFromASTUntyped,
} from 'graphql';
import { foldIdCase } from '../infra/uuid';

/** What a `sessions` list depends on: every session (a change to any, or a new one). */
export const ALL_SESSIONS = '*';

/**
 * Root query fields whose answers are public session data, with the argument naming the
 * session they read, or null for a list (which reads {@link ALL_SESSIONS}). Seat maps are the
 * hottest read of an on-sale; their data changes only through committed seat events and the
 * end of holds.
 */
const SESSION_ROOT_FIELDS: ReadonlyMap<string, string | null> = new Map([
  ['session', 'id'],
  ['seats', 'sessionId'],
  ['sessions', null],
]);

/** The sessions a query reads, and which of its variables name them. */
export interface SessionRead {
  /** Lower-cased session ids, or {@link ALL_SESSIONS} for a list. */
  readonly sessionIds: readonly string[];
  readonly idVariables: ReadonlySet<string>;
}

/**
 * What a query reads when it reads nothing but public session data; null for any other
 * operation (other root fields, root fragments, mutations, ids that are not strings), which
 * is never cached.
 */
export function sessionReadOf(
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
  document?: DocumentNode,
): SessionRead | null {
  if (operation.operation !== 'query') {
    return null;
  }
  const sessionIds: string[] = [];
  const idVariables = new Set<string>();
  for (const selection of operation.selectionSet.selections) {
    if (selection.kind !== Kind.FIELD) {
      return null;
    }
    if (selection.name.value === '__typename') {
      continue;
    }
    const argumentName = SESSION_ROOT_FIELDS.get(selection.name.value);
    if (argumentName === null) {
      sessionIds.push(ALL_SESSIONS);
      continue;
    }
    const argument = selection.arguments?.find((candidate) => candidate.name.value === argumentName);
    if (!argument) {
      return null;
    }
    const sessionId = valueFromASTUntyped(argument.value, variables);
    if (typeof sessionId !== 'string') {
      return null;
    }
    if (argument.value.kind === Kind.VARIABLE) {
      idVariables.add(argument.value.name.value);
    }
    // Ids are UUIDs, matched in any case (`parseId` canonicalises them), while events name
    // sessions in lower case: an upper-case id must depend on the same session.
    sessionIds.push(foldIdCase(sessionId));
  }
  if (readsSchedules(operation.selectionSet, fragmentsOf(document))) {
    // `Session.auditorium { sessions }` reads other sessions of the auditorium, new ones included.
    sessionIds.push(ALL_SESSIONS);
  }
  return { sessionIds, idVariables };
}

function fragmentsOf(document: DocumentNode | undefined): ReadonlyMap<string, FragmentDefinitionNode> {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document?.definitions ?? []) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  return fragments;
}

/**
 * True when the selection reaches a session's `auditorium` (whose `sessions` are other
 * sessions), through fragments too; an unknown fragment counts as reaching it. Each fragment is
 * walked once, so the walk is linear in the document.
 */
function readsSchedules(
  selectionSet: SelectionSetNode,
  fragments: ReadonlyMap<string, FragmentDefinitionNode>,
  walked = new Set<string>(),
): boolean {
  return selectionSet.selections.some((selection) => {
    if (selection.kind === Kind.FIELD) {
      return (
        selection.name.value === 'auditorium' ||
        (selection.selectionSet !== undefined && readsSchedules(selection.selectionSet, fragments, walked))
      );
    }
    if (selection.kind === Kind.INLINE_FRAGMENT) {
      return readsSchedules(selection.selectionSet, fragments, walked);
    }
    const name = selection.name.value;
    if (walked.has(name)) {
      return false;
    }
    walked.add(name);
    const fragment = fragments.get(name);
    return fragment === undefined || readsSchedules(fragment.selectionSet, fragments, walked);
  });
}

/**
 * The sessions a query reads when it reads nothing but public session data (root fields
 * `session`, `seats` and `sessions`, the last depending on {@link ALL_SESSIONS}), lower-cased;
 * null for any other operation, which is never cached.
 */
export function sessionsReadBy(
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | undefined,
): string[] | null {
  const read = sessionReadOf(operation, variables);
  return read ? [...read.sessionIds] : null;
}

/**
 * The cache key of a public session query: its document's hash, operation name, and the
 * values of the variables it declares (others are ignored by GraphQL, so they must not make
 * new entries), session ids lower-cased so that `ABC…` and `abc…` share one entry.
 */
export function sessionReadKey(
  queryHash: string,
  operationName: string | undefined,
  operation: OperationDefinitionNode,
  read: SessionRead,
  variables: Readonly<Record<string, unknown>> | undefined,
): string {
  const declared: Record<string, unknown> = {};
  for (const definition of operation.variableDefinitions ?? []) {
    const name = definition.variable.name.value;
    const value = variables?.[name];
    declared[name] = read.idVariables.has(name) && typeof value === 'string' ? foldIdCase(value) : value;
  }
  return `${queryHash}\n${operationName ?? ''}\n${JSON.stringify(declared)}`;
}
