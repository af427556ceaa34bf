import {
  type DocumentNode,
  type FragmentDefinitionNode,
  getNamedType,
  getNullableType,
  type GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { MAX_SEATS_PER_SESSION } from '../booking/room-size';
import { DomainError, ErrorCode } from '../errors/domain-error';
import { requestRefusal } from '../errors/graphql-error-formatter';

/** The limits an operation must fit in (OWASP GraphQL cheat sheet). */
export interface OperationLimits {
  readonly maxDepth: number;
  readonly maxAliases: number;
  readonly maxCost: number;
}

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
