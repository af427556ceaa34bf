import 'reflect-metadata';
import fc from 'fast-check';
import {
  type DocumentNode,
  type FragmentDefinitionNode,
  getNamedType,
  getNullableType,
  type GraphQLArgument,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLObjectType,
  type GraphQLSchema,
  getOperationAST,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  Kind,
  type OperationDefinitionNode,
  parse,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';
import { buildGraphQLSchema } from '../../src/schema/build-schema';
import { nodeCount } from '../support/graphql-documents';
import {
  DEFAULT_LIST_SIZE,
  LIST_SIZES,
  measureOperationWithSteps,
  type OperationMeasure,
} from '../../src/security/operation-measure';

/** A random document and the variables sent with it. */
interface RandomDocument {
  readonly source: string;
  readonly variables: Record<string, unknown>;
}

/** How large random documents get. */
interface DocumentShape {
  readonly maxFragments: number;
  /** Most spreads of one fragment in a row. */
  readonly maxRepeats: number;
}

/**
 * Writes a random document against `schema`: an operation and fragments, with
 * fields of the real types (nested lists included), aliases, `first` as literals and
 * variables, inline fragments with and without type conditions, and fragment spreads, often
 * repeated and chained (a fragment spreads only fragments defined after it, so there is no
 * cycle).
 */
function randomDocument(
  generate: fc.GeneratorValue,
  schema: GraphQLSchema,
  shape: DocumentShape,
): RandomDocument {
  const objectTypes = Object.values(schema.getTypeMap()).filter(
    (type): type is GraphQLObjectType => isObjectType(type) && !type.name.startsWith('__'),
  );
  const query = schema.getQueryType()!;
  // By index: fast-check compares constants, and schema types are cyclic graphs.
  const pick = <Item>(items: readonly Item[]): Item =>
    items[generate(fc.integer, { min: 0, max: items.length - 1 })];
  const fragmentCount = generate(fc.integer, { min: 0, max: shape.maxFragments });
  // Fragments on Query make chains that fan out from the root.
  const fragmentTypes = Array.from({ length: fragmentCount }, () =>
    generate(fc.boolean) ? query : pick(objectTypes),
  );
  const variables: Record<string, unknown> = {};
  const variableDefinitions: string[] = [];
  let names = 0;

  const argumentValue = (argument: GraphQLArgument): string | null => {
    if (argument.name === 'first') {
      const choice = generate(fc.constantFrom, 'literal', 'variable', 'missing variable', 'none');
      if (choice === 'none') {
        return null;
      }
      if (choice === 'literal') {
        return String(generate(fc.integer, { min: 0, max: 120 }));
      }
      const name = `v${(names += 1)}`;
      variableDefinitions.push(`$${name}: Int`);
      if (choice === 'variable') {
        variables[name] = generate(fc.integer, { min: 0, max: 120 });
      }
      return `$${name}`;
    }
    if (!isNonNullType(argument.type)) {
      return null;
    }
    const type = getNamedType(argument.type);
    if (isEnumType(type)) {
      return type.getValues()[0].name;
    }
    if (isInputObjectType(type)) {
      return '{}';
    }
    return type.name === 'Int' ? '3' : '"0190b3c4-7d1e-7000-8000-000000000001"';
  };

  const field = (definition: GraphQLField<unknown, unknown>, depthLeft: number) => {
    const alias = generate(fc.integer, { min: 0, max: 3 }) === 0 ? `a${(names += 1)}: ` : '';
    const argumentsText = definition.args
      .map((argument) => {
        const value = argumentValue(argument);
        return value === null ? null : `${argument.name}: ${value}`;
      })
      .filter((text) => text !== null);
    const head = `${alias}${definition.name}${argumentsText.length > 0 ? `(${argumentsText.join(', ')})` : ''}`;
    const type = getNamedType(definition.type);
    if (!isObjectType(type)) {
      return head;
    }
    if (depthLeft === 0) {
      return `${alias}__typename`;
    }
    return `${head} { ${selectionSet(type, depthLeft - 1, Number.POSITIVE_INFINITY)} }`;
  };

  /** Selections on `type`; spreads only of fragments numbered above `after`. */
  function selectionSet(type: GraphQLObjectType, depthLeft: number, after: number): string {
    const count = generate(fc.integer, { min: 1, max: 4 });
    const selections: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const kind = generate(fc.constantFrom, 'field', 'field', 'inline', 'spread', 'spread');
      const spreadable = fragmentTypes
        .map((fragmentType, fragment) => ({ fragmentType, fragment }))
        .filter(({ fragmentType, fragment }) => fragmentType === type && fragment > after);
      if (kind === 'spread' && spreadable.length > 0) {
        const { fragment } = pick(spreadable);
        const repeats = generate(fc.integer, { min: 1, max: shape.maxRepeats });
        selections.push(Array.from({ length: repeats }, () => `...F${fragment}`).join(' '));
      } else if (kind === 'inline' && depthLeft > 0) {
        const condition = generate(fc.boolean) ? ` on ${type.name}` : '';
        selections.push(`...${condition} { ${selectionSet(type, depthLeft - 1, after)} }`);
      } else {
        const fields = Object.values(type.getFields());
        selections.push(field(pick(fields), depthLeft));
      }
    }
    return selections.join(' ');
  }

  const fragments = fragmentTypes.map(
    (type, index) => `fragment F${index} on ${type.name} { ${selectionSet(type, 3, index)} }`,
  );
  // Spreads in the operation reach Query fragments; other types are reached through fields.
  const body = selectionSet(query, 4, -1);
  const header = variableDefinitions.length > 0 ? `query (${variableDefinitions.join(', ')}) ` : '';
  return { source: `${header}{ ${body} } ${fragments.join(' ')}`, variables };
}

/**
 * The measurer as it was before fragments were measured once: it walks a fragment again at
 * every spread (exponential in repeated spreads), and is kept here as the definition of what
 * the measures mean.
 */
function referenceMeasure(
  schema: GraphQLSchema,
  document: DocumentNode,
  operation: OperationDefinitionNode,
  variables: Record<string, unknown>,
): OperationMeasure {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const argumentNumber = (value: ValueNode | undefined): number | undefined => {
    if (value?.kind === Kind.INT) {
      return Number(value.value);
    }
    if (value?.kind === Kind.VARIABLE) {
      const variable = variables[value.name.value];
      return typeof variable === 'number' ? variable : undefined;
    }
    return undefined;
  };
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
        continue;
      }
      const first = argumentNumber(
        selection.arguments?.find((argument) => argument.name.value === 'first')?.value,
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
  const cost = walk(schema.getQueryType()!, operation.selectionSet, 1, undefined, new Set());
  return { depth, aliases, cost };
}

/** Selections the reference walks: repeated spreads multiply. */
function expandedSelections(document: DocumentNode, operation: OperationDefinitionNode): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) {
      fragments.set(definition.name.value, definition);
    }
  }
  const counted = new Map<string, number>();
  const count = (selectionSet: SelectionSetNode): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      total += 1;
      if (selection.kind === Kind.FRAGMENT_SPREAD) {
        const name = selection.name.value;
        if (!counted.has(name)) {
          counted.set(name, count(fragments.get(name)!.selectionSet));
        }
        total += counted.get(name)!;
      } else if (selection.selectionSet) {
        total += count(selection.selectionSet);
      }
    }
    return total;
  };
  return count(operation.selectionSet);
}

describe('measuring an operation (property)', () => {
  let schema: GraphQLSchema;

  beforeAll(async () => {
    schema = await buildGraphQLSchema();
  });

  it('visits at most one selection per node of the document, whatever its fragments', () => {
    fc.assert(
      fc.property(fc.gen(), (generate) => {
        // Long chains of repeated spreads: walking every spread would take up to 6^40 steps.
        const { source, variables } = randomDocument(generate, schema, { maxFragments: 40, maxRepeats: 6 });
        const document = parse(source);
        const { steps } = measureOperationWithSteps(schema, document, getOperationAST(document)!, variables);
        expect(steps).toBeLessThanOrEqual(nodeCount(document));
      }),
      { numRuns: 300 },
    );
  });

  it('measures what walking every spread measures', () => {
    fc.assert(
      fc.property(fc.gen(), (generate) => {
        const { source, variables } = randomDocument(generate, schema, { maxFragments: 12, maxRepeats: 4 });
        const document = parse(source);
        const operation = getOperationAST(document)!;
        // The reference is exponential: compare where it ends quickly.
        fc.pre(expandedSelections(document, operation) <= 20_000);
        const { measure } = measureOperationWithSteps(schema, document, operation, variables);
        const reference = referenceMeasure(schema, document, operation, variables);
        expect(measure).toEqual({
          depth: reference.depth,
          aliases: Math.min(reference.aliases, Number.MAX_SAFE_INTEGER),
          cost: Math.min(reference.cost, Number.MAX_SAFE_INTEGER),
        });
      }),
      { numRuns: 300 },
    );
  });
});
