import { loadAwsServiceSpecSync } from '@aws-cdk/aws-service-spec';
import type { Property, PropertyType, Resource, SpecDatabase, TypeDefinition } from '@aws-cdk/service-spec-types';

// A CloudFormation template checked against the CloudFormation resource specification AWS maintains
// (@aws-cdk/aws-service-spec, the database the AWS CDK generates its L1 constructs from), not against our own
// reading of the services: resource types, property names, types and required properties (nested ones too),
// `Fn::GetAtt` attributes, and the targets of `Ref`, `Fn::GetAtt`, `Fn::Sub` and `DependsOn`.

/** The parts of a template this check reads. */
export interface CfnTemplate {
  Parameters?: Record<string, unknown>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; DependsOn?: string | string[] }>;
  Outputs?: Record<string, unknown>;
}

/** The pseudo parameters every template may `Ref`: https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/pseudo-parameter-reference.html */
const PSEUDO_PARAMETERS = new Set([
  'AWS::AccountId',
  'AWS::NotificationARNs',
  'AWS::NoValue',
  'AWS::Partition',
  'AWS::Region',
  'AWS::StackId',
  'AWS::StackName',
  'AWS::URLSuffix',
]);

const INTRINSICS = new Set([
  'Ref',
  'Fn::GetAtt',
  'Fn::Sub',
  'Fn::Join',
  'Fn::If',
  'Fn::Select',
  'Fn::Split',
  'Fn::ImportValue',
  'Fn::FindInMap',
  'Fn::Base64',
  'Fn::GetAZs',
  'Fn::Cidr',
  'Fn::ToJsonString',
  'Fn::Length',
]);

let database: SpecDatabase | undefined;

/** The specification, loaded once per process (under a second). */
export function serviceSpec(): SpecDatabase {
  database ??= loadAwsServiceSpecSync();
  return database;
}

function resourceSpec(type: string): Resource | undefined {
  return serviceSpec().lookup('resource', 'cloudFormationType', 'equals', type)[0];
}

const isIntrinsic = (value: unknown): boolean =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  Object.keys(value).length === 1 &&
  INTRINSICS.has(Object.keys(value)[0]);

const describe = (value: unknown) =>
  Array.isArray(value) ? 'a list' : value === null ? 'null' : typeof value === 'object' ? 'an object' : `a ${typeof value}`;

/** The problems of `value` against a property type, each with its path; empty when it conforms. */
function checkValue(value: unknown, type: PropertyType, path: string): string[] {
  if (isIntrinsic(value)) return [];
  switch (type.type) {
    case 'string':
    case 'date-time':
      // CloudFormation turns numbers and booleans given for a string into their text.
      return ['string', 'number', 'boolean'].includes(typeof value) ? [] : [`${path}: expected a string, got ${describe(value)}`];
    case 'number':
    case 'integer':
      return typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
        ? []
        : [`${path}: expected a ${type.type}, got ${describe(value)}`];
    case 'boolean':
      return typeof value === 'boolean' || value === 'true' || value === 'false'
        ? []
        : [`${path}: expected a boolean, got ${describe(value)}`];
    case 'json':
      return typeof value === 'object' || typeof value === 'string' ? [] : [`${path}: expected JSON, got ${describe(value)}`];
    case 'null':
      return [];
    case 'tag':
      return checkObject(
        value,
        { Key: { type: { type: 'string' }, required: true }, Value: { type: { type: 'string' }, required: true } },
        path,
      );
    case 'array':
      if (!Array.isArray(value)) return [`${path}: expected a list, got ${describe(value)}`];
      return value.flatMap((element, i) => checkValue(element, type.element, `${path}[${i}]`));
    case 'map':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected a map, got ${describe(value)}`];
      return Object.entries(value).flatMap(([key, element]) => checkValue(element, type.element, `${path}.${key}`));
    case 'union': {
      const attempts = type.types.map((option) => checkValue(value, option, path));
      return attempts.some((problems) => problems.length === 0) ? [] : (attempts[0] ?? []);
    }
    case 'ref': {
      const definition = serviceSpec().get('typeDefinition', type.reference.$ref) as TypeDefinition;
      return checkObject(value, definition.properties, path);
    }
  }
}

function checkObject(value: unknown, properties: Record<string, Property>, path: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [`${path}: expected an object, got ${describe(value)}`];
  const given = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const [name, property] of Object.entries(properties)) {
    if (property.required && !(name in given)) problems.push(`${path}.${name}: required, missing`);
  }
  for (const [name, element] of Object.entries(given)) {
    const property = properties[name];
    if (!property) problems.push(`${path}.${name}: not a property here (known: ${Object.keys(properties).join(', ')})`);
    else problems.push(...checkValue(element, property.type, `${path}.${name}`));
  }
  return problems;
}

/** Every `Ref`, `Fn::GetAtt` and `Fn::Sub` variable in a piece of the template, with where it stands. */
function* references(value: unknown, path: string): Generator<{ path: string; ref?: string; getAtt?: [string, string] }> {
  if (Array.isArray(value)) {
    for (const [i, element] of value.entries()) yield* references(element, `${path}[${i}]`);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const entries = Object.entries(value);
  if (entries.length === 1) {
    const [[key, argument]] = entries;
    if (key === 'Ref' && typeof argument === 'string') {
      yield { path, ref: argument };
      return;
    }
    if (key === 'Fn::GetAtt') {
      const [resource, attribute] =
        typeof argument === 'string' ? [argument.split('.')[0], argument.split('.').slice(1).join('.')] : (argument as [string, string]);
      yield { path, getAtt: [resource, attribute] };
      return;
    }
    if (key === 'Fn::Sub') {
      const [text, variables = {}] = typeof argument === 'string' ? [argument, {}] : (argument as [string, Record<string, unknown>]);
      for (const [, name] of text.matchAll(/\$\{(?!!)([^}]+)\}/g)) {
        if (name in variables) continue;
        const dot = name.indexOf('.');
        if (dot > 0 && !name.startsWith('AWS::')) yield { path, getAtt: [name.slice(0, dot), name.slice(dot + 1)] };
        else yield { path, ref: name };
      }
      yield* references(variables, `${path}.Fn::Sub[1]`);
      return;
    }
  }
  for (const [key, element] of entries) yield* references(element, `${path}.${key}`);
}

/** Every problem the specification finds in a template: an empty list when CloudFormation's schema accepts it. */
export function checkTemplateAgainstSpec(template: CfnTemplate): string[] {
  const problems: string[] = [];
  const resources = template.Resources;
  for (const [id, resource] of Object.entries(resources)) {
    const spec = resourceSpec(resource.Type);
    if (!spec) {
      problems.push(`Resources.${id}: ${resource.Type} is not a CloudFormation resource type`);
      continue;
    }
    problems.push(...checkObject(resource.Properties ?? {}, spec.properties, `Resources.${id}.Properties`));
    for (const dependency of ([] as string[]).concat(resource.DependsOn ?? [])) {
      if (!(dependency in resources)) problems.push(`Resources.${id}.DependsOn: no resource ${dependency}`);
    }
  }
  const referable = new Set([...Object.keys(resources), ...Object.keys(template.Parameters ?? {}), ...PSEUDO_PARAMETERS]);
  for (const [section, body] of [
    ['Resources', resources],
    ['Outputs', template.Outputs ?? {}],
    ['Conditions', template.Conditions ?? {}],
  ] as const) {
    for (const found of references(body, section)) {
      if (found.ref !== undefined && !referable.has(found.ref))
        problems.push(`${found.path}: Ref to ${found.ref}, which is no resource, parameter or pseudo parameter`);
      if (found.getAtt) {
        const [target, attribute] = found.getAtt;
        const type = resources[target]?.Type;
        if (!type) {
          problems.push(`${found.path}: Fn::GetAtt on ${target}, which is no resource`);
          continue;
        }
        const attributes = Object.keys(resourceSpec(type)?.attributes ?? {});
        if (!attributes.includes(attribute))
          problems.push(`${found.path}: ${type} has no attribute ${attribute} (it has: ${attributes.join(', ')})`);
      }
    }
  }
  return problems;
}
