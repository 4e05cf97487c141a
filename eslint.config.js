// ESLint (flat config). schema.graphql is linted with @graphql-eslint's schema rules: descriptions everywhere,
// naming conventions, no unreachable types.
import graphqlPlugin from '@graphql-eslint/eslint-plugin';

export default [
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
      '@graphql-eslint/require-description': ['error', { types: true, rootField: true, FieldDefinition: true, InputValueDefinition: true, EnumValueDefinition: true }],
    },
  },
];
