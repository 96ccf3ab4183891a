/**
 * identity.yaml against its JSON Schema (schema/identity.schema.json, also published for
 * editors): the violations in words, at the YAML node to change.
 */
import type { ErrorObject } from 'ajv';
import { isSeq, type Node } from 'yaml';
import { closestManifestName } from '../model/closest-name.js';
import type { Diagnostic } from '../model/index.js';
import { validate as validateIdentitySchema } from './identity-schema.validate.js';
import { deref, diagnosticAt, entry, locationOf, type YamlFile } from './identity-yaml.js';

/**
 * The schema's errors for `data`, from the validator ajv compiled at build time from
 * schema/identity.schema.json (scripts/gen-validators.mjs): every diagnosticAt, each verbose (with the
 * data and the schema it is about, for messages that show both).
 */
export function schemaErrors(data: unknown): ErrorObject[] {
  const validate = validateIdentitySchema as unknown as { (data: unknown): boolean; errors?: ErrorObject[] | null };
  return validate(data) ? [] : (validate.errors ?? []);
}

/** The node at an ajv instancePath ("/roleAssignments/0/role") and its readable path ("roleAssignments[0].role"). */
function nodeAtPointer(f: YamlFile, pointer: string): { node?: Node; path: string } {
  let node: unknown = f.doc.contents;
  let path = '';
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (isSeq(node)) {
      node = deref(f, node.items[Number(segment)]);
      path += `[${segment}]`;
    } else {
      node = entry(f, node, segment).value;
      path += /^[A-Za-z_][\w-]*$/.test(segment) ? `${path ? '.' : ''}${segment}` : `[${JSON.stringify(segment)}]`;
    }
  }
  return { node: node as Node | undefined, path };
}

const TYPE_WORDS: Record<string, string> = {
  boolean: 'true or false',
  string: 'a string',
  object: 'a map (key: value)',
  array: 'a list (- item)',
};

function describeValue(value: unknown): string {
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  return JSON.stringify(value);
}

/** A schema violation in words, at the node to change; undefined for ajv's summary errors. */
export function schemaDiagnostic(f: YamlFile, e: ErrorObject, unresolved: Set<Node>): Diagnostic | undefined {
  const { node, path } = nodeAtPointer(f, e.instancePath);
  const where = path ? `in ${path}` : 'at the top level';
  const allowed = Object.keys((e.parentSchema?.properties as object | undefined) ?? {});
  switch (e.keyword) {
    case 'type': {
      if (node && unresolved.has(node)) return undefined;
      const expected = String(e.params.type)
        .split(',')
        .find((t) => t !== 'null')!;
      return diagnosticAt(locationOf(f, node), `${path} must be ${TYPE_WORDS[expected] ?? expected}, not ${describeValue(e.data)}`);
    }
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const suggestion = closestManifestName(key, allowed);
      return diagnosticAt(locationOf(f, entry(f, node, key).key ?? node), `unknown key "${key}" ${where}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; allowed keys: ${allowed.join(', ')}`);
    }
    case 'required': {
      const required = (e.parentSchema?.required as string[] | undefined) ?? [];
      return diagnosticAt(locationOf(f, node), `${path} has no ${e.params.missingProperty}; required keys: ${required.join(', ')}`);
    }
    case 'minLength':
      return node && unresolved.has(node) ? undefined : diagnosticAt(locationOf(f, node), `${path} must not be empty`);
    case 'pattern':
    case 'not': {
      // propertyNames of identity.userAssigned: the aliases.
      const alias = String(e.propertyName);
      const message =
        e.keyword === 'not' ? `alias "${alias}" is reserved for the system-assigned identity: choose another alias` : `alias "${alias}" is not a valid name: use letters, digits, "-" and "_"`;
      return diagnosticAt(locationOf(f, entry(f, node, alias).key ?? node), message);
    }
    case 'propertyNames':
      return undefined;
    default:
      return diagnosticAt(locationOf(f, node), `${path} ${e.message ?? 'is not valid'}`);
  }
}
