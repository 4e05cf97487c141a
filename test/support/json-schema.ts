// A small JSON Schema checker for the frames in docs/asyncapi.yaml: the keywords those schemas use, no more. A keyword
// it does not know is reported as an error, so a schema can never pass by using something unchecked.
import { readFile } from 'node:fs/promises';

export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  oneOf?: JsonSchema[];
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  [annotation: string]: unknown;
}

const ANNOTATIONS = new Set(['title', 'description', 'examples', 'default', '$comment', 'deprecated']);
const ISO_DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The problems of `value` against `schema` (empty when it conforms); `resolve` looks up `$ref`s. */
export function checkSchema(schema: JsonSchema, value: unknown, resolve: (ref: string) => JsonSchema, path = '$'): string[] {
  const errors: string[] = [];
  const fail = (message: string) => errors.push(`${path}: ${message}`);
  for (const [keyword, rule] of Object.entries(schema)) {
    switch (keyword) {
      case '$ref':
        errors.push(...checkSchema(resolve(rule as string), value, resolve, path));
        break;
      case 'type': {
        const types = Array.isArray(rule) ? rule : [rule];
        const actual = typeOf(value);
        if (!types.includes(actual) && !(actual === 'integer' && types.includes('number'))) fail(`is ${actual}, expected ${types.join(' or ')}`);
        break;
      }
      case 'properties':
        if (typeOf(value) !== 'object') break;
        for (const [key, sub] of Object.entries(rule as Record<string, JsonSchema>)) {
          if (key in (value as object)) errors.push(...checkSchema(sub, (value as Record<string, unknown>)[key], resolve, `${path}.${key}`));
        }
        break;
      case 'required':
        if (typeOf(value) !== 'object') break;
        for (const key of rule as string[]) if (!(key in (value as object))) fail(`misses ${key}`);
        break;
      case 'additionalProperties':
        if (typeOf(value) !== 'object') break;
        for (const [key, item] of Object.entries(value as object)) {
          if (key in (schema.properties ?? {})) continue;
          if (rule === false) fail(`has unexpected ${key}`);
          else if (typeof rule === 'object') errors.push(...checkSchema(rule as JsonSchema, item, resolve, `${path}.${key}`));
        }
        break;
      case 'items':
        if (Array.isArray(value)) value.forEach((item, i) => errors.push(...checkSchema(rule as JsonSchema, item, resolve, `${path}[${i}]`)));
        break;
      case 'enum':
        if (!(rule as unknown[]).includes(value)) fail(`${JSON.stringify(value)} is not one of ${JSON.stringify(rule)}`);
        break;
      case 'const':
        if (value !== rule) fail(`${JSON.stringify(value)} is not ${JSON.stringify(rule)}`);
        break;
      case 'oneOf': {
        const matching = (rule as JsonSchema[]).filter((sub) => checkSchema(sub, value, resolve, path).length === 0).length;
        if (matching !== 1) fail(`matches ${matching} of the oneOf schemas, not exactly one`);
        break;
      }
      case 'format':
        if (rule !== 'date-time') fail(`unsupported format ${String(rule)}`);
        else if (typeof value === 'string' && !(ISO_DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)))) fail(`${value} is not a date-time`);
        break;
      case 'minimum':
        if (typeof value === 'number' && value < (rule as number)) fail(`${value} < ${String(rule)}`);
        break;
      case 'maximum':
        if (typeof value === 'number' && value > (rule as number)) fail(`${value} > ${String(rule)}`);
        break;
      case 'minLength':
        if (typeof value === 'string' && [...value].length < (rule as number)) fail(`shorter than ${String(rule)}`);
        break;
      case 'maxLength':
        if (typeof value === 'string' && [...value].length > (rule as number)) fail(`longer than ${String(rule)}`);
        break;
      default:
        if (!ANNOTATIONS.has(keyword)) fail(`unsupported keyword ${keyword}`);
    }
  }
  return errors;
}

export interface FrameSpec {
  type: string;
  schema: JsonSchema;
  examples: { type: string }[];
}

export interface AsyncApi {
  doc: any;
  resolve(ref: string): JsonSchema;
  /** The frames the server sends, or those it receives from clients. */
  framesOf(side: 'server' | 'client'): FrameSpec[];
  /** Frame type -> payload schema, for one side. */
  schemasOf(side: 'server' | 'client'): Map<string, JsonSchema>;
}

/**
 * docs/asyncapi.yaml, which is written in YAML's JSON-compatible flow style after a comment header, so it loads
 * without a YAML parser.
 */
export async function loadAsyncApi(): Promise<AsyncApi> {
  const text = await readFile(new URL('../../docs/asyncapi.yaml', import.meta.url), 'utf8');
  const doc = JSON.parse(text.replace(/^#.*$/gm, ''));
  const resolve = (ref: string): any =>
    ref
      .slice(2)
      .split('/')
      .reduce((node, key) => node[key], doc);
  const deref = (node: any): any => (node.$ref ? deref(resolve(node.$ref)) : node);
  const framesOf = (side: 'server' | 'client'): FrameSpec[] =>
    doc.operations[side === 'server' ? 'sendServerFrames' : 'receiveClientFrames'].messages.map((ref: unknown) => {
      const message = deref(ref);
      const schema = deref(message.payload);
      return { type: schema.properties.type.const, schema, examples: (message.examples ?? []).map((e: { payload: unknown }) => e.payload) };
    });
  return {
    doc,
    resolve,
    framesOf,
    schemasOf: (side) => new Map(framesOf(side).map((f) => [f.type, f.schema])),
  };
}
