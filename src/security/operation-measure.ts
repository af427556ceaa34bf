import {
  type DocumentNode,
  type FragmentDefinitionNode,
  getNamedType,
  getNullableType,
  type GraphQLNamedType,
  type GraphQLSchema,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { MAX_AUDITORIUMS } from '../booking/create-auditorium';
import { MAX_SCHEDULE_SESSIONS } from '../booking/auditorium-queries';
import { MAX_SEATS_PER_SESSION } from '../booking/room-size';

/*
 * How deep, how aliased and how costly an operation is, measured on its document before it
 * runs (the limits themselves are checked in `operation-limits.ts`). Fragments are measured
 * once and reused at every spread, so that measuring stays linear in the document's size.
 */

/** What an operation measures; see {@link measureOperation}. */
export interface OperationMeasure {
  readonly depth: number;
  readonly aliases: number;
  readonly cost: number;
}

/**
 * Expected size of list fields without a `first` argument, by `Type.field`: the cost of a list
 * is its size times the cost of one item. Seat maps are costed at the largest room the API
 * allows, since a client chooses which session it asks for.
 */
export const LIST_SIZES: Readonly<Record<string, number>> = {
  'Query.seats': MAX_SEATS_PER_SESSION,
  'Session.seats': MAX_SEATS_PER_SESSION,
  'Query.myReservations': 200,
  'Reservation.seats': 10,
  'Sale.seats': 10,
  'SeatStatusChange.seats': 10,
  'Query.auditoriums': MAX_AUDITORIUMS,
  'Auditorium.sessions': MAX_SCHEDULE_SESSIONS,
};
/** Expected size of other lists without a `first` argument. */
export const DEFAULT_LIST_SIZE = 100;

/**
 * Measures stop growing here: repeated fragment spreads make aliases and costs grow
 * exponentially with the document, and anything this large is far over any limit anyway.
 */
const MAX_MEASURE = Number.MAX_SAFE_INTEGER;

function saturated(value: number): number {
  return Math.min(value, MAX_MEASURE);
}

/** A `first` argument's value; a negative page is costed as empty, never as a refund. */
function argumentNumber(
  value: ValueNode | undefined,
  variables: Readonly<Record<string, unknown>>,
): number | undefined {
  if (!value) {
    return undefined;
  }
  if (value.kind === Kind.INT) {
    return Math.max(0, Number(value.value));
  }
  if (value.kind === Kind.VARIABLE) {
    const variable = variables[value.name.value];
    return typeof variable === 'number' ? Math.max(0, variable) : undefined;
  }
  return undefined;
}

/**
 * The measure of one selection set, independent of where it is spread, so that a fragment is
 * measured once however often it is spread. Its depth counts levels from its own fields (0
 * when it has none); its cost depends on the page size it inherits (the `first` of the nearest
 * connection above it, which sizes its `edges`), and is kept as a function of that size:
 * `unpaged` when none is inherited, `fixed + perPageItem × size` otherwise.
 */
interface SelectionMeasure {
  depth: number;
  aliases: number;
  unpaged: number;
  fixed: number;
  perPageItem: number;
}

function emptyMeasure(): SelectionMeasure {
  return { depth: 0, aliases: 0, unpaged: 0, fixed: 0, perPageItem: 0 };
}

/** The cost of a selection set measured by {@link SelectionMeasure} under `pageSize`. */
function costUnder(measure: SelectionMeasure, pageSize: number | undefined): number {
  return pageSize === undefined
    ? measure.unpaged
    : saturated(measure.fixed + saturated(measure.perPageItem * pageSize));
}

/** Adds the fields of `part` (an inline fragment or a spread, at the same level) to `total`. */
function addAtSameLevel(total: SelectionMeasure, part: SelectionMeasure): void {
  total.depth = Math.max(total.depth, part.depth);
  total.aliases = saturated(total.aliases + part.aliases);
  total.unpaged = saturated(total.unpaged + part.unpaged);
  total.fixed = saturated(total.fixed + part.fixed);
  total.perPageItem = saturated(total.perPageItem + part.perPageItem);
}

/** {@link measureOperationWithSteps}'s answer: the measure and the work it took. */
export interface CountedMeasure {
  readonly measure: OperationMeasure;
  /** Selections visited: at most one per selection node of the document (fragments once each). */
  readonly steps: number;
}

/**
 * Depth, aliases and cost of one operation. Every object field costs 1 (its scalars come with
 * it); a list costs its size (`first`, or the connection's `first` for `edges`, or an estimate)
 * times the cost of one item, at least 1; fragments count where they are spread, as often as
 * they are spread. Introspection (`__schema`, `__type`) is not counted: it is governed by the
 * introspection switch. Takes time linear in the document's size (see
 * {@link measureOperationWithSteps}); values saturate at `Number.MAX_SAFE_INTEGER`.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
): OperationMeasure {
  return measureOperationWithSteps(schema, document, operation, variables).measure;
}

/**
 * {@link measureOperation}, also saying how many selections it visited. Each fragment is
 * measured once per type it is measured on (its type condition, for valid documents) and the
 * result reused at every spread, so the steps never exceed the document's selection nodes
 * (times the schema's types, for invalid documents whose type conditions name no type). A
 * fragment spread inside itself (refused by validation) is not followed.
 */
export function measureOperationWithSteps(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> = {},
): CountedMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const measuredFragments = new Map<string, SelectionMeasure>();
  const fragmentsInProgress = new Set<string>();
  let steps = 0;

  const measureFragment = (name: string, type: GraphQLNamedType): SelectionMeasure | undefined => {
    const fragment = fragments.get(name);
    if (!fragment) {
      return undefined;
    }
    const condition = schema.getType(fragment.typeCondition.name.value) ?? type;
    const key = `${name} on ${condition.name}`;
    const measured = measuredFragments.get(key);
    if (measured) {
      return measured;
    }
    if (fragmentsInProgress.has(key)) {
      return undefined;
    }
    fragmentsInProgress.add(key);
    const measure = measureSelections(condition, fragment.selectionSet);
    fragmentsInProgress.delete(key);
    measuredFragments.set(key, measure);
    return measure;
  };

  const measureSelections = (type: GraphQLNamedType, selectionSet: SelectionSetNode): SelectionMeasure => {
    const total = emptyMeasure();
    for (const selection of selectionSet.selections) {
      steps += 1;
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        addAtSameLevel(total, measureSelections(condition ?? type, selection.selectionSet));
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const fragment = measureFragment(selection.name.value, type);
        if (fragment) {
          addAtSameLevel(total, fragment);
        }
        continue;
      }
      const name = selection.name.value;
      if (name === '__schema' || name === '__type') {
        continue;
      }
      if (selection.alias) {
        total.aliases = saturated(total.aliases + 1);
      }
      total.depth = Math.max(total.depth, 1);
      const field = isObjectType(type) ? type.getFields()[name] : undefined;
      if (!field || !selection.selectionSet) {
        // Scalars come with the object that holds them.
        continue;
      }
      const child = measureSelections(getNamedType(field.type), selection.selectionSet);
      total.depth = Math.max(total.depth, 1 + child.depth);
      total.aliases = saturated(total.aliases + child.aliases);
      const first = argumentNumber(
        selection.arguments?.find((argument) => argument.name.value === 'first')?.value,
        variables,
      );
      const isList = isListType(getNullableType(field.type));
      if (isList && name === 'edges') {
        // A page of a connection: its size is the page size this selection set inherits.
        const itemCost = Math.max(1, costUnder(child, first));
        const estimate = LIST_SIZES[`${type.name}.${name}`] ?? DEFAULT_LIST_SIZE;
        total.unpaged = saturated(total.unpaged + 1 + saturated(estimate * itemCost));
        total.fixed = saturated(total.fixed + 1);
        total.perPageItem = saturated(total.perPageItem + itemCost);
        continue;
      }
      if (isList || first !== undefined) {
        // The field sets the page size of what is below it: its cost is the same under any page size.
        const size = isList ? (first ?? LIST_SIZES[`${type.name}.${name}`] ?? DEFAULT_LIST_SIZE) : 1;
        const cost = saturated(1 + saturated(size * Math.max(1, costUnder(child, first))));
        total.unpaged = saturated(total.unpaged + cost);
        total.fixed = saturated(total.fixed + cost);
        continue;
      }
      // One object that passes the inherited page size on to its own fields.
      total.unpaged = saturated(total.unpaged + 1 + Math.max(1, child.unpaged));
      if (child.perPageItem > 0) {
        // Its cost grows with the page size, and is at least 1 (the `edges` field) for any size.
        total.fixed = saturated(total.fixed + 1 + child.fixed);
        total.perPageItem = saturated(total.perPageItem + child.perPageItem);
      } else {
        total.fixed = saturated(total.fixed + 1 + Math.max(1, child.fixed));
      }
    }
    return total;
  };

  const root = schema.getRootType(operation.operation);
  const measured = root ? measureSelections(root, operation.selectionSet) : emptyMeasure();
  return {
    measure: { depth: measured.depth, aliases: measured.aliases, cost: costUnder(measured, undefined) },
    steps,
  };
}
