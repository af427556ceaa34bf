import { type CodegenConfig } from '@graphql-codegen/cli';

/**
 * Typed documents for the operations in `client/operations/*.graphql`, generated from the
 * committed schema (`npm run codegen`). Front-end teams can copy this file and point
 * `schema` at `http://localhost:4000/graphql` or at `src/schema/schema.graphql`.
 */
const config: CodegenConfig = {
  schema: 'src/schema/schema.graphql',
  documents: ['client/operations/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'client/generated/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        // IDs are UUID strings and DateTimes ISO-8601 strings, in variables and in results.
        scalars: { ID: 'string', DateTime: 'string' },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};

// graphql-codegen reads the default export of its config file.
export default config;
