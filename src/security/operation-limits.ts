import {
  type DocumentNode,
  type FragmentDefinitionNode,
  getNamedType,
  getNullableType,
  GraphQLError,
  type GraphQLNamedType,
  type GraphQLSchema,
  isListType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

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
 * Expected size of list fields without a `first` argument: the cost of a list is its size times
 * the cost of one item. Seat maps are assumed to be 500 seats (rooms allow up to 10,000).
 */
const LIST_SIZES: Readonly<Record<string, number>> = {
  'Query.seats': 500,
  'Session.seats': 500,
  'Query.myReservations': 200,
  'Reservation.seats': 10,
  'Sale.seats': 10,
  'SeatStatusChange.seats': 10,
};
const DEFAULT_LIST_SIZE = 100;

function argumentNumber(
  value: ValueNode | undefined,
  variables: Record<string, unknown>,
): number | undefined {
  if (!value) {
    return undefined;
  }
  if (value.kind === Kind.INT) {
    return Number(value.value);
  }
  if (value.kind === Kind.VARIABLE) {
    const variable = variables[value.name.value];
    return typeof variable === 'number' ? variable : undefined;
  }
  return undefined;
}

/**
 * Depth, aliases and cost of one operation. Every object field costs 1 (its scalars come with
 * it); a list costs its size (`first`, or the connection's `first` for `edges`, or an estimate)
 * times the cost of one item, at least 1; fragments count where they are spread. Introspection (`__schema`, `__type`) is not counted:
 * it is governed by the introspection switch.
 */
export function measureOperation(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> = {},
): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  let depth = 0;
  let aliases = 0;

  const walk = (
    type: GraphQLNamedType,
    selectionSet: SelectionSetNode,
    level: number,
    pageSize: number | undefined,
    visiting: ReadonlySet<string>,
  ): number => {
    let cost = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.INLINE_FRAGMENT) {
        const condition = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : type;
        cost += walk(condition ?? type, selection.selectionSet, level, pageSize, visiting);
        continue;
      }
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        const fragment = fragments.get(name);
        // A fragment spreading itself is refused by validation; do not loop on it here.
        if (fragment && !visiting.has(name)) {
          const condition = schema.getType(fragment.typeCondition.name.value) ?? type;
          cost += walk(condition, fragment.selectionSet, level, pageSize, new Set([...visiting, name]));
        }
        continue;
      }
      const name = selection.name.value;
      if (name === '__schema' || name === '__type') {
        continue;
      }
      if (selection.alias) {
        aliases += 1;
      }
      depth = Math.max(depth, level);
      const field = isObjectType(type) ? type.getFields()[name] : undefined;
      if (!field || !selection.selectionSet) {
        // Scalars come with the object that holds them.
        continue;
      }
      const first = argumentNumber(
        selection.arguments?.find((argument) => argument.name.value === 'first')?.value,
        variables,
      );
      const isList = isListType(getNullableType(field.type));
      const size = isList
        ? ((name === 'edges' ? pageSize : first) ?? LIST_SIZES[`${type.name}.${name}`] ?? DEFAULT_LIST_SIZE)
        : 1;
      const childPageSize = first ?? (isList ? undefined : pageSize);
      const itemCost = Math.max(
        1,
        walk(getNamedType(field.type), selection.selectionSet, level + 1, childPageSize, visiting),
      );
      cost += 1 + size * itemCost;
    }
    return cost;
  };

  const root =
    operation.operation === 'query'
      ? schema.getQueryType()
      : operation.operation === 'mutation'
        ? schema.getMutationType()
        : schema.getSubscriptionType();
  const cost = root ? walk(root, operation.selectionSet, 1, undefined, new Set()) : 0;
  return { depth, aliases, cost };
}

/** The limit errors of an operation (empty when it fits), rejected before execution. */
export function checkOperationLimits(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown> | undefined,
  limits: OperationLimits,
): GraphQLError[] {
  const measure = measureOperation(schema, document, operation, variables);
  const errors: GraphQLError[] = [];
  const refuse = (limit: keyof OperationMeasure, max: number, message: string) =>
    errors.push(
      new GraphQLError(message, {
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED', limit, max, actual: measure[limit] },
      }),
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
