import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { builder } from './builder.ts';
import './types.ts';
import './query.ts';
import './mutation.ts';
import './subscription.ts';

export const schema: GraphQLSchema = builder.toSchema();

/** The SDL committed as schema.graphql (sorted, so it diffs cleanly). */
export const printedSchema = () => printSchema(lexicographicSortSchema(schema)) + '\n';
