// @ts-check
import { existsSync, readdirSync } from 'node:fs';
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

/**
 * The layers of `src/`, top to bottom: a file may import its own layer and the layers below it,
 * never one above (docs/adr/0010-layers-of-src.md says why each sits where it does). Entries
 * are folders, or single files at the root of `src/`.
 */
const LAYERS = [
  ['app', 'main', 'token', 'migrate', 'replay-dead-letters', 'mikro-orm.cli'],
  ['transports', 'web'],
  ['pipeline'],
  ['schema'],
  ['resolvers'],
  ['security'],
  ['live', 'workers'],
  ['events'],
  ['caching'],
  ['booking'],
  ['repositories'],
  ['entities'],
  ['infra', 'errors', 'scalars', 'config', 'mikro-orm.config', 'seating'],
];

/**
 * Imports a layer allows although they point up: MikroORM's idioms. An entity names its
 * repository class (`@Entity({ repository })`), and the ORM configuration (read by
 * `infra/database.ts`) lists the entities.
 */
const ALLOWED_UPWARD = {
  entities: ['repositories'],
  'mikro-orm.config': ['entities'],
};

// A folder or root file missing from LAYERS would escape the rule: refuse to lint until it is placed.
const unplaced = readdirSync('src', { withFileTypes: true })
  .filter((entry) => entry.isDirectory() || (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')))
  .map((entry) => entry.name.replace(/\.ts$/, ''))
  .filter((name) => !LAYERS.flat().includes(name));
if (unplaced.length > 0) {
  throw new Error(`Place ${unplaced.map((name) => `src/${name}`).join(', ')} in LAYERS (eslint.config.mjs).`);
}

const escapeRegex = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function layerRules() {
  return LAYERS.flatMap((names, level) => {
    const above = LAYERS.slice(0, level).flat();
    return names.map((name) => {
      const forbidden = above.filter((other) => !(ALLOWED_UPWARD[name] ?? []).includes(other));
      const isFolder = existsSync(`src/${name}`);
      // From a folder, other layers are reached through `../`; from a root file, through `./`.
      const prefix = isFolder ? '(\\.\\./)+' : '\\./';
      return {
        files: isFolder ? [`src/${name}/**/*.ts`] : [`src/${name}.ts`],
        ignores: ['src/**/*.test.ts'],
        rules: {
          'no-restricted-imports':
            forbidden.length === 0
              ? 'off'
              : [
                  'error',
                  {
                    patterns: [
                      {
                        regex: `^${prefix}(${forbidden.map(escapeRegex).join('|')})(/|$)`,
                        message: `src/${name} may not import a layer above it (see the LAYERS list in eslint.config.mjs).`,
                      },
                    ],
                  },
                ],
        },
      };
    });
  });
}

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'node_modules/**',
      'coverage/**',
      '**/*.js',
      '**/*.mjs',
      'migrations/**',
      'client/generated/**',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      curly: ['error', 'all'],
      eqeqeq: ['error', 'always'],
      'no-restricted-syntax': [
        'error',
        { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Jest and graphql-codegen load these files through their default export.
    files: ['test/support/global-setup.ts', 'test/support/global-teardown.ts', 'codegen.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  ...layerRules(),
);
