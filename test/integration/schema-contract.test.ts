import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildSchema,
  type GraphQLField,
  type GraphQLNamedType,
  isEnumType,
  isInputObjectType,
  isObjectType,
  isScalarType,
} from 'graphql';
import { buildGraphQLSchema } from '../../src/schema/build-schema';
import { renderSchema, SCHEMA_FILE } from '../../src/schema/emit-schema';

const ROOT = join(__dirname, '..', '..');

describe('GraphQL schema', () => {
  it('is committed as emitted from the code (run `npm run schema:emit` after changing it)', async () => {
    expect(readFileSync(SCHEMA_FILE, 'utf8')).toBe(await renderSchema());
  });

  it('has committed typed client documents as codegen makes them (run `npm run codegen`)', () => {
    // graphql-codegen is ESM inside and will not load under jest: run its CLI on a copy.
    const copy = mkdtempSync(join(tmpdir(), 'poltrona-codegen-'));
    try {
      for (const path of ['codegen.ts', 'src/schema/schema.graphql', 'client/operations']) {
        cpSync(join(ROOT, path), join(copy, path), { recursive: true });
      }
      symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
      const cli = join(ROOT, 'node_modules', '@graphql-codegen', 'cli', 'cjs', 'bin.js');
      const run = spawnSync(process.execPath, [cli, '--config', 'codegen.ts', '--silent'], {
        cwd: copy,
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      const generated = readdirSync(join(copy, 'client', 'generated')).sort();
      expect(readdirSync(join(ROOT, 'client', 'generated')).sort()).toEqual(generated);
      for (const file of generated) {
        expect(readFileSync(join(ROOT, 'client', 'generated', file), 'utf8')).toBe(
          readFileSync(join(copy, 'client', 'generated', file), 'utf8'),
        );
      }
    } finally {
      rmSync(copy, { recursive: true, force: true });
    }
  });

  it('has every type, field, argument and enum value of the contract (test/fixtures/contract.graphql) with the same types', async () => {
    const contract = buildSchema(readFileSync(join(__dirname, '..', 'fixtures', 'contract.graphql'), 'utf8'));
    const actual = await buildGraphQLSchema();
    const problems: string[] = [];
    for (const expected of Object.values(contract.getTypeMap()).filter(
      (type) => !type.name.startsWith('__'),
    )) {
      const found = actual.getType(expected.name) as GraphQLNamedType | undefined;
      if (!found) {
        problems.push(`missing type ${expected.name}`);
        continue;
      }
      if (isEnumType(expected)) {
        const values = isEnumType(found) ? found.getValues().map((value) => value.name) : [];
        for (const value of expected.getValues()) {
          if (!values.includes(value.name)) {
            problems.push(`missing enum value ${expected.name}.${value.name}`);
          }
        }
      } else if (isObjectType(expected) || isInputObjectType(expected)) {
        if (!(isObjectType(found) || isInputObjectType(found))) {
          problems.push(`${expected.name} is not an object or input type`);
          continue;
        }
        const fields = found.getFields() as Record<
          string,
          GraphQLField<unknown, unknown> | { type: unknown }
        >;
        for (const [name, field] of Object.entries(expected.getFields())) {
          const actualField = fields[name];
          if (!actualField) {
            problems.push(`missing field ${expected.name}.${name}`);
            continue;
          }
          if (String(actualField.type) !== String(field.type)) {
            problems.push(
              `${expected.name}.${name} is ${String(actualField.type)}, contract says ${String(field.type)}`,
            );
          }
          if ('defaultValue' in field && (actualField as typeof field).defaultValue !== field.defaultValue) {
            problems.push(`${expected.name}.${name} defaults to something else than the contract's`);
          }
          if ('deprecationReason' in field && field.deprecationReason) {
            const actualReason = (actualField as { deprecationReason?: string | null }).deprecationReason;
            if (actualReason !== field.deprecationReason) {
              problems.push(`${expected.name}.${name} is not deprecated as the contract says`);
            }
          }
          for (const argument of 'args' in field ? field.args : []) {
            const actualArgument =
              'args' in actualField ? actualField.args.find((arg) => arg.name === argument.name) : undefined;
            if (!actualArgument) {
              problems.push(`missing argument ${expected.name}.${name}(${argument.name})`);
            } else if (
              String(actualArgument.type) !== String(argument.type) ||
              actualArgument.defaultValue !== argument.defaultValue
            ) {
              problems.push(`${expected.name}.${name}(${argument.name}) differs from the contract`);
            }
          }
        }
      } else if (isScalarType(expected) && !isScalarType(found)) {
        problems.push(`${expected.name} is not a scalar`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('describes every type, field and argument', async () => {
    const schema = await buildGraphQLSchema();
    const undocumented: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (type.name.startsWith('__') || ['String', 'Int', 'Boolean', 'ID', 'Float'].includes(type.name)) {
        continue;
      }
      // The root types too (docs/contract.md).
      if (!type.description) {
        undocumented.push(type.name);
      }
      if (isObjectType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (!field.description) {
            undocumented.push(`${type.name}.${field.name}`);
          }
          for (const argument of 'args' in field ? field.args : []) {
            if (!argument.description) {
              undocumented.push(`${type.name}.${field.name}(${argument.name})`);
            }
          }
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) {
          if (!value.description) {
            undocumented.push(`${type.name}.${value.name}`);
          }
        }
      }
    }
    expect(undocumented).toEqual([]);
  });
});
