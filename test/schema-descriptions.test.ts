// The schema documents itself: GraphiQL's docs pane and generated clients show these descriptions, so every type,
// field, argument and enum value has one. Read through introspection, as a client sees them.
import { describe, expect, it } from 'vitest';
import {
  buildClientSchema,
  getIntrospectionQuery,
  graphqlSync,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  type IntrospectionQuery,
} from 'graphql';
import { schema } from '../src/graphql/schema.ts';

function undescribed(): string[] {
  const result = graphqlSync({ schema, source: getIntrospectionQuery() });
  const client = buildClientSchema(result.data as unknown as IntrospectionQuery);
  const missing: string[] = [];
  const check = (what: string, description: string | null | undefined) => {
    if (!description?.trim()) missing.push(what);
  };
  for (const type of Object.values(client.getTypeMap())) {
    if (type.name.startsWith('__') || ['String', 'Int', 'Boolean', 'Float', 'ID'].includes(type.name)) continue;
    check(type.name, type.description);
    if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        check(`${type.name}.${field.name}`, field.description);
        for (const arg of 'args' in field ? field.args : []) check(`${type.name}.${field.name}(${arg.name})`, arg.description);
      }
    }
    if (isEnumType(type)) for (const value of type.getValues()) check(`${type.name}.${value.name}`, value.description);
  }
  return missing;
}

describe('schema descriptions', () => {
  it('describe every type, field, argument and enum value', () => {
    expect(undescribed()).toEqual([]);
  });
});
