// Writes schema.graphql from the Pothos schema (the SDL is an output, never edited by hand).
import { writeFile } from 'node:fs/promises';
import { printedSchema } from '../src/graphql/schema.ts';

await writeFile(new URL('../schema.graphql', import.meta.url), printedSchema());
console.log('schema.graphql written');
