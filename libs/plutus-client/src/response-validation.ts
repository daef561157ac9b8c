import Ajv2020, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { PlutusSchemaError } from './errors';
import { plutusSchemaDocument } from './generated/plutus-schemas';

export type PlutusSchemaName = keyof typeof plutusSchemaDocument.components.schemas;

let ajv: Ajv2020 | undefined;
const validators = new Map<string, ValidateFunction>();

function compiled(name: string, arrayOf: boolean): ValidateFunction {
  const key = arrayOf ? `${name}[]` : name;
  let validate = validators.get(key);
  if (!validate) {
    if (!ajv) {
      // strict off: the document carries OpenAPI-only keywords (description, example) that are not JSON Schema.
      ajv = new Ajv2020({ strict: false, allErrors: false });
      addFormats(ajv, ['date-time']);
      ajv.addSchema(plutusSchemaDocument as unknown as object);
    }
    const ref = { $ref: `plutus#/components/schemas/${name}` };
    validate = ajv.compile(arrayOf ? { type: 'array', items: ref } : ref);
    validators.set(key, validate);
  }
  return validate;
}

/** The first mismatch of `value` against a schema of the OpenAPI document, or undefined when it conforms. */
export function findSchemaMismatch(
  name: PlutusSchemaName,
  value: unknown,
  options: { arrayOf?: boolean } = {},
): { path: string; value: unknown; problem: string } | undefined {
  const validate = compiled(name, options.arrayOf ?? false);
  if (validate(value)) return undefined;
  const error = (validate.errors ?? [])[0] as ErrorObject | undefined;
  const path = error?.instancePath ?? '';
  const offending = error?.keyword === 'required' ? undefined : valueAtPointer(value, path);
  return { path, value: offending, problem: error?.message ?? 'invalid' };
}

/** Throws a PlutusSchemaError naming the field path and value when `value` does not match the schema. */
export function assertMatchesSchema<T>(name: PlutusSchemaName, value: unknown, options: { arrayOf?: boolean } = {}): T {
  const mismatch = findSchemaMismatch(name, value, options);
  if (mismatch) throw new PlutusSchemaError({ schema: options.arrayOf ? `${name}[]` : name, ...mismatch });
  return value as T;
}

function valueAtPointer(root: unknown, pointer: string): unknown {
  if (!pointer) return root;
  let node: unknown = root;
  for (const raw of pointer.split('/').slice(1)) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}
