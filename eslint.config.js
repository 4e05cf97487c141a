// ESLint (flat config): typescript-eslint's recommended rules on the TypeScript, the layering of src/ as import
// boundaries, and @graphql-eslint's schema rules on schema.graphql. Formatting is Prettier's (npm run lint runs both).
import tseslint from 'typescript-eslint';
import boundaries from 'eslint-plugin-boundaries';
import graphqlPlugin from '@graphql-eslint/eslint-plugin';

export default tseslint.config(
  { ignores: ['src/generated/', 'test/support/generated/', 'node_modules/', 'data/', 'bench/results/', 'client/dist/'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      // Unused arguments keep a signature readable (`(_, args, ctx)`); an underscore marks them.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests read loosely typed JSON answers (`any`) on purpose: the assertions are the types.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Handlers typed `any` on purpose: both the DOM's and ws' event types must fit without a cast.
    files: ['client/src/socket.ts', 'demo/dom.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // The layering README describes: the domain knows no transport or GraphQL, transports reach the database only
    // through the domain, events carry plain data and know no domain, and the database layer knows no domain.
    files: ['src/**/*.ts'],
    plugins: { boundaries },
    settings: {
      'boundaries/elements': [
        { type: 'domain', pattern: 'src/domain' },
        { type: 'transports', pattern: 'src/transports' },
        { type: 'graphql', pattern: 'src/graphql' },
        { type: 'events', pattern: 'src/events' },
        { type: 'db', pattern: 'src/db' },
      ],
    },
    rules: {
      'boundaries/dependencies': [
        'error',
        {
          default: 'allow',
          policies: [
            { from: { element: { type: 'domain' } }, disallow: { to: { element: { types: { anyOf: ['transports', 'graphql'] } } } } },
            { from: { element: { type: 'transports' } }, disallow: { to: { element: { type: 'db' } } } },
            { from: { element: { type: 'events' } }, disallow: { to: { element: { type: 'domain' } } } },
            { from: { element: { type: 'db' } }, disallow: { to: { element: { type: 'domain' } } } },
          ],
        },
      ],
    },
  },
  {
    files: ['schema.graphql'],
    languageOptions: { parser: graphqlPlugin.parser, parserOptions: { graphQLConfig: { schema: 'schema.graphql' } } },
    plugins: { '@graphql-eslint': graphqlPlugin },
    rules: {
      ...graphqlPlugin.configs['flat/schema-recommended'].rules,
      // The names and types of the contract: ids are `Int!` (not `ID!`), and wrappers such as edges, payloads and
      // events have no id of their own; `User.username` is what every client reads.
      '@graphql-eslint/strict-id-in-types': 'off',
      '@graphql-eslint/no-typename-prefix': 'off',
      '@graphql-eslint/require-description': [
        'error',
        { types: true, rootField: true, FieldDefinition: true, InputValueDefinition: true, EnumValueDefinition: true },
      ],
    },
  },
);
