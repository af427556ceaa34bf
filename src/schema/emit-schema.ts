import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { printSchema } from 'graphql';
import { buildGraphQLSchema } from './build-schema';

// This file runs from src/schema (TypeScript) or from dist/src/schema (compiled).
const PROJECT_ROOT = __filename.endsWith('.ts')
  ? join(__dirname, '..', '..')
  : join(__dirname, '..', '..', '..');

/** Where the committed SDL lives (read by codegen and by front-end teams). */
export const SCHEMA_FILE = join(PROJECT_ROOT, 'src', 'schema', 'schema.graphql');

/** The SDL as committed: the printed schema plus a trailing newline. */
export async function renderSchema(): Promise<string> {
  return `${printSchema(await buildGraphQLSchema())}\n`;
}

if (require.main === module) {
  renderSchema()
    .then((sdl) => {
      writeFileSync(SCHEMA_FILE, sdl);
      console.log(`Wrote ${SCHEMA_FILE}`);
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
