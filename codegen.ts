// GraphQL Code Generator: the tests' operations (written with the generated `graphql()`) become typed documents,
// checked against the committed schema.graphql. The output is committed, so tests and tsc need no generation
// step; test/codegen.test.ts fails when it is stale. Run `npm run codegen` after changing an operation or the schema.
import type { CodegenConfig } from '@graphql-codegen/cli';

export const OUTPUT_DIR = 'test/support/generated/';

const config: CodegenConfig = {
  schema: 'schema.graphql',
  // Only `graphql()` calls are read from these files; operations the suites write as plain strings are not.
  documents: ['test/**/*.ts'],
  generates: {
    [OUTPUT_DIR]: {
      preset: 'client',
      // Masking would hide fragment fields from the tests, which read them directly.
      presetConfig: { fragmentMasking: false },
      config: {
        // The project imports with explicit .ts extensions (NodeNext + allowImportingTsExtensions).
        importExtension: '.ts',
        // Type-only imports, so the runtime never loads @graphql-typed-document-node/core (it has no JavaScript).
        useTypeImports: true,
        // DateTime is an ISO-8601 string on the wire.
        scalars: { DateTime: 'string' },
      },
    },
  },
};

export default config;
