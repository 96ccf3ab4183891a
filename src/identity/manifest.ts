/**
 * Loads `identity.yaml`, the APIM instance's managed identities and the role assignments they need
 * (ARCHITECTURE.md, "Identity / RBAC manifest"), with the variables of the chosen environment
 * (`environments/<name>.yaml`). Offline: it reads files, never Azure. Bad content never throws:
 * every problem is a diagnostic with the file, line and column of the YAML node concerned.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ErrorObject } from 'ajv';
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Alias, type Document, type Node, type Scalar } from 'yaml';
import { FILE_LIMITS, FileRefusedError, readTreeText } from '../desired/safe-file.js';
import { idSegmentsProblem } from '../model/arm-id.js';
import type { Diagnostic } from '../model/index.js';
import { validate as validateIdentitySchema } from './identity-schema.validate.js';

export const MANIFEST_FILE = 'identity.yaml';
const ENVIRONMENTS_DIR = 'environments';
const RULE = 'identity-manifest';
const VARIABLES_RULE = 'identity-variables';

export interface ManifestLocation {
  file: string;
  line: number;
  column: number;
}

export interface UserAssignedSpec {
  alias: string;
  /** Normalised like a scope (see normaliseScope); case kept. */
  resourceId: string;
  /** The alias key. */
  at: ManifestLocation;
}

export interface RoleAssignmentSpec {
  /** `system` or an alias of identity.userAssigned, as written. */
  identity: string;
  /** As written (after substitution): a built-in role name, a role definition GUID or role definition ID. */
  role: string;
  /** Lower-case GUID when `role` is a GUID, a role definition ID or a name in KNOWN_BUILT_IN_ROLES (any case). */
  roleDefinitionGuid?: string;
  /** Normalised (see normaliseScope) and valid: no empty, "." or ".." segment; case kept. */
  scope: string;
  description?: string;
  /** The list item (its first key). */
  at: ManifestLocation;
}

export interface IdentityManifest {
  /** Shown path: join(options.label ?? root, 'identity.yaml'). */
  file: string;
  /** Undefined when the manifest does not say: the identity is then left as it is live. */
  systemAssigned?: boolean;
  /** [] when absent; see userAssignedDeclared. */
  userAssigned: UserAssignedSpec[];
  /** True when the manifest has identity.userAssigned (even empty: no user-assigned identity); else the live ones are left as they are. */
  userAssignedDeclared?: boolean;
  /** Line of the `identity:` key, when there is one. */
  identityLine?: number;
  roleAssignments: RoleAssignmentSpec[];
  /** The environment whose variables were substituted. */
  environment?: string;
}

export interface LoadedManifest {
  /** Set when identity.yaml exists and has no error (warnings allow it). */
  manifest?: IdentityManifest;
  diagnostics: Diagnostic[];
}

/**
 * Built-in role name → role definition GUID, for the roles APIM policies commonly need (data-plane
 * roles of the services policies call) and the general ones. Names are as Azure spells them; the
 * live plan resolves any other name with a `roleName eq` lookup.
 */
export const KNOWN_BUILT_IN_ROLES: Record<string, string> = {
  'API Management Service Contributor': '312a565d-c81f-4fd8-895a-4e21e48d571c',
  'API Management Service Operator Role': 'e022efe7-f5ba-4159-bbe4-b44f577e9b61',
  'API Management Service Reader Role': '71522526-b88f-4d52-b57f-d31fc3546d0d',
  'App Configuration Data Owner': '5ae67dd6-50cb-40e7-96ff-dc2bfa4b606b',
  'App Configuration Data Reader': '516239f1-63e1-4d78-a4de-a74fb236a071',
  'Azure AI Developer': '64702f94-c441-49e6-a78b-ef80e0188fee',
  'Azure AI User': '53ca6127-db72-4b80-b1b0-d745d6d5456d',
  'Azure Event Hubs Data Owner': 'f526a384-b230-433a-b45c-95f59c4a2dec',
  'Azure Event Hubs Data Receiver': 'a638d3c7-ab3a-418d-83e6-5f17a39d4fde',
  'Azure Event Hubs Data Sender': '2b629674-e913-4c01-ae53-ef4638d8f975',
  'Azure Service Bus Data Owner': '090c5cfd-751d-490a-894a-3ce6f1109419',
  'Azure Service Bus Data Receiver': '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0',
  'Azure Service Bus Data Sender': '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
  'Cognitive Services Contributor': '25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68',
  'Cognitive Services OpenAI Contributor': 'a001fd3d-188f-4b5d-821b-7da978bf7442',
  'Cognitive Services OpenAI User': '5e0bd9bd-7b93-4f28-af87-19fc36ad61bd',
  'Cognitive Services User': 'a97b65f3-24c7-4388-baec-2e87135dc908',
  Contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  'EventGrid Data Sender': 'd5a91429-5739-47e2-a06b-3470a27159e7',
  'Key Vault Administrator': '00482a5a-887f-4fb3-b363-3b7fe8e74483',
  'Key Vault Certificate User': 'db79e9a7-68ee-4b58-9aeb-b90e7c24fcba',
  'Key Vault Certificates Officer': 'a4417e6f-fecd-4de8-b567-7b0420556985',
  'Key Vault Crypto Officer': '14b46e9e-c2b7-41b4-b07b-48a6ebf60603',
  'Key Vault Crypto User': '12338af0-0e69-4776-bea7-57ae8d297424',
  'Key Vault Reader': '21090545-7ca7-4776-b22c-e363652d74d2',
  'Key Vault Secrets Officer': 'b86a8fe4-44ce-4948-aee5-eccb2c155cd7',
  'Key Vault Secrets User': '4633458b-17de-408a-b874-0445c86b69e6',
  'Logic App Contributor': '87a39d53-fc1b-424a-814c-f7e04687dc9e',
  'Logic App Operator': '515c2055-d9d4-4321-b1b9-bd0c9a0f79fe',
  'Monitoring Metrics Publisher': '3913510d-42f4-4e42-8a64-420c390055eb',
  Owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  Reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  'Role Based Access Control Administrator': 'f58310d9-a9f6-439a-9e8d-f62e7b41a168',
  'Search Index Data Contributor': '8ebe5a00-799e-43f5-93ac-243d3dce84a7',
  'Search Index Data Reader': '1407120a-92aa-4202-b7e9-c0e197c71c8f',
  'Storage Blob Data Contributor': 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  'Storage Blob Data Owner': 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  'Storage Blob Data Reader': '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  'Storage Queue Data Contributor': '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  'Storage Queue Data Message Processor': '8a0f0c08-91a1-4084-bc3d-661d67233fed',
  'Storage Queue Data Message Sender': 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a',
  'Storage Queue Data Reader': '19e7f393-937e-4f77-808e-94535e297925',
  'Storage Table Data Contributor': '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  'Storage Table Data Reader': '76199698-9eea-4c19-bc75-cec21354c6b6',
  'User Access Administrator': '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
};

/** Roles that can grant access or change everything: refused unless explicitly allowed. */
export const PRIVILEGED_ROLE_GUIDS: ReadonlySet<string> = new Set(
  ['Owner', 'Contributor', 'User Access Administrator', 'Role Based Access Control Administrator'].map((name) => KNOWN_BUILT_IN_ROLES[name]!),
);

const ROLE_GUID_BY_NAME = new Map(Object.entries(KNOWN_BUILT_IN_ROLES).map(([name, guid]) => [name.toLowerCase(), guid]));
const GUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const IS_GUID = new RegExp(`^${GUID}$`);
/** A role definition ID as the portal and ARM show it, with or without the subscription. */
const ROLE_DEFINITION_ID = new RegExp(`^(?:/subscriptions/${GUID})?/providers/Microsoft\\.Authorization/roleDefinitions/(${GUID})$`, 'i');
const USER_ASSIGNED_ID = new RegExp(
  `^/subscriptions/${GUID}/resourceGroups/[^/\\s]+/providers/Microsoft\\.ManagedIdentity/userAssignedIdentities/[^/\\s]+$`,
  'i',
);
const USER_ASSIGNED_EXAMPLE = '/subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ManagedIdentity/userAssignedIdentities/<name>';
const SCOPE_EXAMPLE = '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-messaging/providers/Microsoft.ServiceBus/namespaces/sb-orders';
/** ARM's resource group names: letters, digits, '_', '-', '.', '(' and ')', not ending with '.'. */
const RESOURCE_GROUP = /^[\p{L}\p{N}_().-]*[\p{L}\p{N}_()-]$/u;
const PROVIDER_NAMESPACE = /^[A-Za-z][A-Za-z0-9]*(\.[A-Za-z0-9]+)+$/;

/** `${NAME}`, or a `${` that no `}` closes. */
const REFERENCE = /\$\{([^}]*)\}|\$\{/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = row;
  }
  return previous[b.length]!;
}

/** Compared without case, spaces, '-' and '_': "AzureServiceBus data-sender" is a misspelt "Azure Service Bus Data Sender". */
const squash = (s: string): string => s.toLowerCase().replace(/[\s_-]+/g, '');

function closest(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = squash(name);
  // About one typo per eight characters, at most three: "Sendr" finds "Sender", while a custom role
  // such as "Storage Blob Data Writer" is not taken for "Storage Blob Data Reader".
  const limit = Math.min(3, Math.max(1, Math.floor(wanted.length / 8)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const other = squash(candidate);
    if (Math.abs(other.length - wanted.length) >= bestDistance) continue;
    const distance = editDistance(wanted, other);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Closest known built-in role name (case-insensitive edit distance, small threshold relative to length), or undefined. */
export function suggestRole(name: string, candidates: Iterable<string> = Object.keys(KNOWN_BUILT_IN_ROLES)): string | undefined {
  return closest(name, candidates);
}

/** The lower-case role definition GUID a role stands for, when it can be known offline. */
function roleGuid(role: string): string | undefined {
  if (IS_GUID.test(role)) return role.toLowerCase();
  const id = ROLE_DEFINITION_ID.exec(role);
  if (id) return id[1]!.toLowerCase();
  return ROLE_GUID_BY_NAME.get(role.trim().toLowerCase());
}

/**
 * One leading '/' (however many were written, or none), no trailing '/'; case kept. Nothing
 * else: an empty segment inside (`a//b`), `.` or `..` stays, for scopeProblem to refuse — a
 * normaliser here and URL resolution later could read such an id differently.
 */
export function normaliseScope(scope: string): string {
  const led = `/${scope.replace(/^\/+/, '')}`;
  return led.length > 1 ? led.replace(/\/$/, '') : led;
}

/** What is wrong with a normalised scope, or undefined. */
function scopeShapeProblem(scope: string): string | undefined {
  if (/\s/.test(scope)) return 'contains whitespace';
  const parts = scope.split('/').slice(1);
  // Before the shape: `…/st1/../../../../../..` has the shape of a resource and resolves to the subscription.
  const unsafe = scope === '/' ? undefined : idSegmentsProblem(parts);
  if (unsafe) return `is not a clean ARM id (${unsafe}); write the resource's ID as the portal shows it, without "." or ".." segments, empty segments, "\\" or %-escapes`;
  const lower = parts.map((p) => p.toLowerCase());
  if (lower[0] === 'providers') {
    if (lower[1] === 'microsoft.management' && lower[2] === 'managementgroups' && parts.length === 4) return undefined;
    return 'is not a management group (/providers/Microsoft.Management/managementGroups/<id>)';
  }
  if (lower[0] !== 'subscriptions') {
    return 'must start with /subscriptions/<subscription-id> (or be a management group, /providers/Microsoft.Management/managementGroups/<id>)';
  }
  if (parts.length < 2) return 'has no subscription ID after /subscriptions';
  if (!IS_GUID.test(parts[1]!)) return `has "${parts[1]}" where the subscription ID (a GUID) belongs`;
  if (parts.length === 2) return undefined;
  if (lower[2] !== 'resourcegroups') return `has "${parts[2]}" after the subscription where /resourceGroups/<group> belongs`;
  if (parts.length < 4) return 'has no resource group name after /resourceGroups';
  if (!RESOURCE_GROUP.test(parts[3]!)) return `has "${parts[3]}" as resource group name, which ARM does not allow`;
  if (parts.length === 4) return undefined;
  if (lower[4] !== 'providers') return `has "${parts[4]}" after the resource group where /providers/<Namespace>/<type>/<name> belongs`;
  if (parts.length < 6 || !PROVIDER_NAMESPACE.test(parts[5]!)) return 'needs a resource provider namespace such as Microsoft.ServiceBus after /providers';
  const rest = parts.slice(6);
  if (rest.length === 0 || rest.length % 2 !== 0) {
    return `must go on after /providers/${parts[5]} with <type>/<name> pairs, and "${rest.join('/')}" is not`;
  }
  // An extension resource (…/providers/Microsoft.Insights/diagnosticSettings/x) names its own namespace and at least one <type>/<name>.
  for (let i = 0; i < rest.length; i += 2) {
    if (rest[i]!.toLowerCase() !== 'providers') continue;
    if (!PROVIDER_NAMESPACE.test(rest[i + 1]!)) return `has "${rest[i + 1]}" after a nested /providers where a resource provider namespace belongs`;
    if (i + 2 >= rest.length) return `ends with /providers/${rest[i + 1]}: name the resource of that provider (<type>/<name>) or drop the provider`;
  }
  return undefined;
}

/** Normalises and validates an ARM scope; returns an error message (what is wrong + an example) or undefined. */
export function scopeProblem(scope: string): string | undefined {
  const problem = scopeShapeProblem(normaliseScope(scope));
  return problem && `scope "${scope}" ${problem}; a resource scope looks like ${SCOPE_EXAMPLE}`;
}

// --- YAML files and positions ---

interface YamlFile {
  shown: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

function locationAt(f: YamlFile, offset: number): ManifestLocation {
  const { line, col } = f.lines.linePos(offset);
  return { file: f.shown, line, column: col };
}

function locationOf(f: YamlFile, node: unknown): ManifestLocation {
  return locationAt(f, (node as Node | undefined)?.range?.[0] ?? 0);
}

function error(at: ManifestLocation, message: string, rule = RULE): Diagnostic {
  return { severity: 'error', rule, file: at.file, line: at.line, column: at.column, message };
}

/** Parses one YAML file; syntax errors are reported and give undefined. */
function parseYaml(shown: string, text: string, rule: string, diagnostics: Diagnostic[]): YamlFile | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const f: YamlFile = { shown, text, doc, lines };
  for (const w of doc.warnings) diagnostics.push({ ...error(locationAt(f, w.pos[0]), w.message, rule), severity: 'warning' });
  for (const e of doc.errors) {
    const message = e.code === 'MULTIPLE_DOCS' ? 'the file holds more than one YAML document (---); keep one' : e.message;
    diagnostics.push(error(locationAt(f, e.pos[0]), `not valid YAML: ${message}`, rule));
  }
  return doc.errors.length ? undefined : f;
}

const keyText = (key: unknown): string => String(isScalar(key) ? key.value : key);

/** The node itself, or the one an alias (`*name`) stands for. */
function deref(f: YamlFile, node: unknown): Node | undefined {
  return (isAlias(node) ? node.resolve(f.doc) : node) as Node | undefined;
}

/** The key and value nodes of `key` in a YAML map (undefined when `node` is not a map or has no such key). */
function entry(f: YamlFile, node: unknown, key: string): { key?: Node; value?: Node } {
  const pair = isMap(node) ? node.items.find((p) => keyText(p.key) === key) : undefined;
  return { key: pair?.key as Node | undefined, value: deref(f, pair?.value) };
}

/** Every value node under `node`. Map keys are not values: no variables there. */
function* valueNodes(node: unknown): Generator<Scalar | Alias> {
  if (isScalar(node) || isAlias(node)) yield node;
  else if (isMap(node)) for (const pair of node.items) yield* valueNodes(pair.value);
  else if (isSeq(node)) for (const item of node.items) yield* valueNodes(item);
}

// --- Environments and variables ---

type VariableValue = string | number | boolean;

type Variables =
  /** No environment chosen. */
  | { kind: 'none'; available: string[] }
  /** Chosen but unusable; already reported. */
  | { kind: 'failed' }
  /** Chosen but it has no file: only an error where a variable is used (the name also marks comments). */
  | { kind: 'missing'; message: string }
  /** `broken` names are defined with a value that was reported as wrong. */
  | { kind: 'loaded'; shown: string; values: Map<string, VariableValue>; broken: Set<string> };

function environmentNames(root: string): string[] {
  try {
    return readdirSync(join(root, ENVIRONMENTS_DIR))
      .filter((n) => n.endsWith('.yaml'))
      .map((n) => n.slice(0, -'.yaml'.length))
      .sort();
  } catch {
    return [];
  }
}

const listEnvironments = (names: string[]): string =>
  names.length ? `environments: ${names.join(', ')}` : `there is no environment yet (${ENVIRONMENTS_DIR}/<name>.yaml with variables:)`;

/** Reads `environments/<name>.yaml`: `variables:` maps NAME to a string, number or boolean. */
function loadVariables(root: string, shownRoot: string, name: string, manifestFile: string, diagnostics: Diagnostic[]): Variables {
  const start = { file: manifestFile, line: 1, column: 1 };
  if (!ENVIRONMENT_NAME.test(name)) {
    diagnostics.push(error(start, `environment "${name}" is not a valid name: use letters, digits, ".", "-" and "_"`, VARIABLES_RULE));
    return { kind: 'failed' };
  }
  const file = `${name}.yaml`;
  const shown = join(shownRoot, ENVIRONMENTS_DIR, file);
  let text: string | undefined;
  try {
    text = readTreeText(join(root, ENVIRONMENTS_DIR, file), { root, maxBytes: FILE_LIMITS.config, label: shown, what: 'environment files', missingOk: true });
  } catch (e) {
    if (!(e instanceof FileRefusedError)) throw e;
    diagnostics.push(error({ file: shown, line: 1, column: 1 }, e.reason, VARIABLES_RULE));
    return { kind: 'failed' };
  }
  if (text === undefined) {
    return { kind: 'missing', message: `environment "${name}" has no variables file: there is no ${shown}; ${listEnvironments(environmentNames(root))}` };
  }
  const f = parseYaml(shown, text, VARIABLES_RULE, diagnostics);
  if (!f) return { kind: 'failed' };
  const values = new Map<string, VariableValue>();
  const broken = new Set<string>();
  const top = f.doc.contents;
  if (top === null) return { kind: 'loaded', shown, values, broken };
  if (!isMap(top)) {
    diagnostics.push(error(locationOf(f, top), `${shown} must be a map with variables: at the top level`, VARIABLES_RULE));
    return { kind: 'failed' };
  }
  for (const pair of top.items) {
    if (keyText(pair.key) !== 'variables') {
      diagnostics.push(error(locationOf(f, pair.key), `unknown key "${keyText(pair.key)}": an environment file holds only variables:`, VARIABLES_RULE));
    }
  }
  const variables = entry(f, top, 'variables').value;
  if (variables === undefined || (isScalar(variables) && variables.value === null)) return { kind: 'loaded', shown, values, broken };
  if (!isMap(variables)) {
    diagnostics.push(error(locationOf(f, variables), 'variables must be a map of NAME: value', VARIABLES_RULE));
    return { kind: 'failed' };
  }
  for (const pair of variables.items) {
    const variable = keyText(pair.key);
    if (!VARIABLE_NAME.test(variable)) {
      const message = `variable name "${variable}" is not valid: use letters, digits and "_", not starting with a digit`;
      diagnostics.push(error(locationOf(f, pair.key), message, VARIABLES_RULE));
      continue;
    }
    const value = deref(f, pair.value);
    if (isScalar(value) && ['string', 'number', 'boolean'].includes(typeof value.value)) {
      values.set(variable, value.value as VariableValue);
    } else {
      broken.add(variable);
      const what = isScalar(value) && value.value === null ? 'has no value' : 'must be a string, a number or true/false';
      diagnostics.push(error(locationOf(f, value ?? pair.key), `variable ${variable} ${what}`, VARIABLES_RULE));
    }
  }
  return { kind: 'loaded', shown, values, broken };
}

/** Why `${name}` cannot be resolved (undefined: it can, or it was reported already). */
function referenceProblem(name: string, variables: Variables): string | undefined {
  if (variables.kind === 'none') {
    return (
      `\${${name}} needs an environment: pass the \`environment\` input (action) or --environment <name> (CLI) ` +
      `to take variables from ${ENVIRONMENTS_DIR}/<name>.yaml; ${listEnvironments(variables.available)}`
    );
  }
  if (variables.kind === 'missing') return `\${${name}} cannot be resolved: ${variables.message}`;
  if (variables.kind === 'failed' || variables.broken.has(name) || variables.values.has(name)) return undefined;
  const known = [...variables.values.keys()].sort();
  const suggestion = closest(name, known);
  return (
    `unknown variable \${${name}}: ${variables.shown} has no variable ${name} ` +
    `(${known.length ? `known: ${known.join(', ')}` : 'it defines no variables'})${suggestion ? `; did you mean ${suggestion}?` : ''}`
  );
}

/**
 * Replaces `${NAME}` in every string value, in place, so that validation sees the values the
 * environment gives while positions stay those of the original nodes. A plain scalar that is one
 * reference takes the variable's type (`systemAssigned: ${SYSTEM_IDENTITY}` can be a boolean).
 * Returns the nodes left unresolved: their problem is reported, so they are not validated further.
 */
function substitute(f: YamlFile, variables: Variables, diagnostics: Diagnostic[]): Set<Node> {
  const unresolved = new Set<Node>();
  for (const node of valueNodes(f.doc.contents)) {
    if (!isScalar(node) || typeof node.value !== 'string' || !node.value.includes('${')) continue;
    const value = node.value;
    const source = node.range ? f.text.slice(node.range[0], node.range[1]) : '';
    // A reference's position: the n-th time its text occurs in the node's source (escapes or
    // folding elsewhere in a quoted or block scalar do not move it); the node's start otherwise.
    const searched = new Map<string, number>();
    const offsetOf = (token: string): number => {
      const index = source.indexOf(token, (searched.get(token) ?? -1) + 1);
      searched.set(token, index);
      return (node.range?.[0] ?? 0) + Math.max(index, 0);
    };
    let whole: VariableValue | undefined;
    const replaced = value.replace(REFERENCE, (token: string, name: string | undefined) => {
      const at = locationAt(f, offsetOf(token));
      let problem: string | undefined;
      if (name === undefined) problem = '"${" has no closing "}"';
      else if (!VARIABLE_NAME.test(name)) problem = `"${token}" is not a variable reference: a name is letters, digits and "_", not starting with a digit`;
      else problem = referenceProblem(name, variables);
      if (problem) diagnostics.push(error(at, problem, VARIABLES_RULE));
      const resolved = variables.kind === 'loaded' && name !== undefined ? variables.values.get(name) : undefined;
      if (problem || resolved === undefined) {
        unresolved.add(node);
        return token;
      }
      if (token === value) whole = resolved;
      return String(resolved);
    });
    node.value = whole !== undefined && node.type === 'PLAIN' ? whole : replaced;
  }
  return unresolved;
}

// --- Schema ---

/**
 * The schema's errors for `data`, from the validator ajv compiled at build time from
 * schema/identity.schema.json (scripts/gen-validators.mjs): every error, each verbose (with the
 * data and the schema it is about, for messages that show both).
 */
function schemaErrors(data: unknown): ErrorObject[] {
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
function schemaDiagnostic(f: YamlFile, e: ErrorObject, unresolved: Set<Node>): Diagnostic | undefined {
  const { node, path } = nodeAtPointer(f, e.instancePath);
  const where = path ? `in ${path}` : 'at the top level';
  const allowed = Object.keys((e.parentSchema?.properties as object | undefined) ?? {});
  switch (e.keyword) {
    case 'type': {
      if (node && unresolved.has(node)) return undefined;
      const expected = String(e.params.type).split(',').find((t) => t !== 'null')!;
      return error(locationOf(f, node), `${path} must be ${TYPE_WORDS[expected] ?? expected}, not ${describeValue(e.data)}`);
    }
    case 'additionalProperties': {
      const key = String(e.params.additionalProperty);
      const suggestion = closest(key, allowed);
      return error(
        locationOf(f, entry(f, node, key).key ?? node),
        `unknown key "${key}" ${where}${suggestion ? ` (did you mean "${suggestion}"?)` : ''}; allowed keys: ${allowed.join(', ')}`,
      );
    }
    case 'required': {
      const required = (e.parentSchema?.required as string[] | undefined) ?? [];
      return error(locationOf(f, node), `${path} has no ${e.params.missingProperty}; required keys: ${required.join(', ')}`);
    }
    case 'minLength':
      return node && unresolved.has(node) ? undefined : error(locationOf(f, node), `${path} must not be empty`);
    case 'pattern':
    case 'not': {
      // propertyNames of identity.userAssigned: the aliases.
      const alias = String(e.propertyName);
      const message =
        e.keyword === 'not'
          ? `alias "${alias}" is reserved for the system-assigned identity: choose another alias`
          : `alias "${alias}" is not a valid name: use letters, digits, "-" and "_"`;
      return error(locationOf(f, entry(f, node, alias).key ?? node), message);
    }
    case 'propertyNames':
      return undefined;
    default:
      return error(locationOf(f, node), `${path} ${e.message ?? 'is not valid'}`);
  }
}

// --- The manifest ---

function buildManifest(f: YamlFile, unresolved: Set<Node>, diagnostics: Diagnostic[]): IdentityManifest {
  const manifest: IdentityManifest = { file: f.shown, userAssigned: [], roleAssignments: [] };
  /** A string value that substitution resolved, else undefined (a wrong type is a schema error). */
  const text = (node: Node | undefined): string | undefined =>
    isScalar(node) && typeof node.value === 'string' && !unresolved.has(node) ? node.value : undefined;
  const top = f.doc.contents;
  const { key: identityKey, value: identity } = entry(f, top, 'identity');
  if (identityKey) manifest.identityLine = locationOf(f, identityKey).line;
  const system = entry(f, identity, 'systemAssigned').value;
  if (isScalar(system) && typeof system.value === 'boolean') manifest.systemAssigned = system.value;

  const aliases: string[] = [];
  const { key: userAssignedKey, value: userAssigned } = entry(f, identity, 'userAssigned');
  if (userAssignedKey) manifest.userAssignedDeclared = true;
  const seenIds = new Map<string, UserAssignedSpec>();
  for (const pair of isMap(userAssigned) ? userAssigned.items : []) {
    const alias = keyText(pair.key);
    aliases.push(alias);
    const id = text(deref(f, pair.value));
    if (id === undefined) continue;
    const resourceId = normaliseScope(id);
    const unsafe = idSegmentsProblem(resourceId.split('/').slice(1));
    if (unsafe) {
      diagnostics.push(error(locationOf(f, pair.value), `user-assigned identity ${alias}: "${id}" is not a clean ARM id (${unsafe}); write ${USER_ASSIGNED_EXAMPLE}`));
      continue;
    }
    if (!USER_ASSIGNED_ID.test(resourceId)) {
      const message = `user-assigned identity ${alias}: "${id}" is not the resource ID of one; write ${USER_ASSIGNED_EXAMPLE}`;
      diagnostics.push(error(locationOf(f, pair.value), message));
      continue;
    }
    const spec: UserAssignedSpec = { alias, resourceId, at: locationOf(f, pair.key) };
    const same = seenIds.get(resourceId.toLowerCase());
    if (same) {
      const message = `user-assigned identity ${alias} is the same identity as ${same.alias} (line ${same.at.line}); declare it once`;
      diagnostics.push(error(locationOf(f, pair.value), message));
      continue;
    }
    seenIds.set(resourceId.toLowerCase(), spec);
    manifest.userAssigned.push(spec);
  }

  const assignments = entry(f, top, 'roleAssignments').value;
  const seenAssignments = new Map<string, RoleAssignmentSpec>();
  for (const item of isSeq(assignments) ? assignments.items.map((i) => deref(f, i)) : []) {
    if (!isMap(item)) continue;
    const identityNode = entry(f, item, 'identity').value;
    const roleNode = entry(f, item, 'role').value;
    const scopeNode = entry(f, item, 'scope').value;
    const who = text(identityNode);
    const role = text(roleNode);
    const scope = text(scopeNode);
    let complete = who !== undefined && role !== undefined && scope !== undefined;

    if (who === 'system' && manifest.systemAssigned === false) {
      diagnostics.push(
        error(
          locationOf(f, identityNode),
          `a role assignment for the system-assigned identity, but identity.systemAssigned is false (line ${locationOf(f, system).line}): ` +
            'it could never be made; set systemAssigned: true or remove the assignment',
        ),
      );
      complete = false;
    } else if (who !== undefined && who !== 'system' && !aliases.includes(who)) {
      const suggestion = closest(who, ['system', ...aliases]);
      const declared = aliases.length ? `aliases: ${aliases.join(', ')}` : 'no user-assigned identity is declared';
      diagnostics.push(
        error(
          locationOf(f, identityNode),
          `identity "${who}" is neither "system" nor an alias of identity.userAssigned (${declared})${suggestion ? `; did you mean "${suggestion}"?` : ''}`,
        ),
      );
      complete = false;
    }

    const guid = role === undefined ? undefined : roleGuid(role);
    if (role !== undefined && guid === undefined && role.trim().startsWith('/')) {
      diagnostics.push(error(locationOf(f, roleNode), `role "${role}" is not a role definition ID; write /subscriptions/<subscription-id>/providers/Microsoft.Authorization/roleDefinitions/<role-guid>, the role's GUID or its name`));
      complete = false;
    } else if (role !== undefined && guid === undefined && /^[0-9a-f-]{30,}$/i.test(role)) {
      diagnostics.push(error(locationOf(f, roleNode), `role "${role}" is not a valid GUID (8-4-4-4-12 hexadecimal digits)`));
      complete = false;
    } else if (role !== undefined && guid === undefined) {
      // An unknown name far from every known one may be a built-in role not listed here, or a custom role: the live plan resolves it.
      const suggestion = suggestRole(role);
      if (suggestion) {
        diagnostics.push(error(locationOf(f, roleNode), `unknown role "${role}"; did you mean "${suggestion}"?`));
        complete = false;
      }
    }

    const problem = scope === undefined ? undefined : scopeProblem(scope);
    if (problem) {
      diagnostics.push(error(locationOf(f, scopeNode), problem));
      complete = false;
    }
    if (!complete) continue;

    const spec: RoleAssignmentSpec = { identity: who!, role: role!, scope: normaliseScope(scope!), at: locationOf(f, item) };
    if (guid) spec.roleDefinitionGuid = guid;
    const description = text(entry(f, item, 'description').value);
    if (description !== undefined) spec.description = description;
    const key = [spec.identity, guid ?? spec.role.toLowerCase(), spec.scope.toLowerCase()].join('\n');
    const first = seenAssignments.get(key);
    if (first) {
      diagnostics.push(error(spec.at, `role assignment repeats the one at line ${first.at.line} (same identity, role and scope); remove one`));
      continue;
    }
    seenAssignments.set(key, spec);
    manifest.roleAssignments.push(spec);
  }
  return manifest;
}

const byPosition = (a: Diagnostic, b: Diagnostic): number => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column;

/**
 * Loads `<root>/identity.yaml` with the variables of `options.environment` (an empty string counts
 * as none, as an unset action input is). No identity.yaml → { diagnostics: [] }.
 */
export function loadIdentityManifest(root: string, options: { environment?: string; label?: string } = {}): LoadedManifest {
  const shownRoot = options.label ?? root;
  const shown = join(shownRoot, MANIFEST_FILE);
  let text: string | undefined;
  try {
    text = readTreeText(join(root, MANIFEST_FILE), { root, maxBytes: FILE_LIMITS.config, label: shown, what: MANIFEST_FILE, missingOk: true });
  } catch (e) {
    if (!(e instanceof FileRefusedError)) throw e;
    return { diagnostics: [error({ file: shown, line: 1, column: 1 }, e.reason)] };
  }
  if (text === undefined) return { diagnostics: [] };
  const diagnostics: Diagnostic[] = [];
  const environment = options.environment || undefined;
  const variables: Variables =
    environment === undefined ? { kind: 'none', available: environmentNames(root) } : loadVariables(root, shownRoot, environment, shown, diagnostics);
  const result = (manifest?: IdentityManifest): LoadedManifest => {
    diagnostics.sort(byPosition);
    return manifest && !diagnostics.some((d) => d.severity === 'error') ? { manifest, diagnostics } : { diagnostics };
  };

  const f = parseYaml(shown, text, RULE, diagnostics);
  if (!f) return result();
  const top = f.doc.contents;
  if (top !== null && !isMap(top)) {
    diagnostics.push(error(locationOf(f, top), `${MANIFEST_FILE} must be a map with identity: and roleAssignments: at the top level`));
    return result();
  }
  const unresolved = substitute(f, variables, diagnostics);
  for (const node of valueNodes(top)) {
    if (isAlias(node) && !node.resolve(f.doc)) diagnostics.push(error(locationOf(f, node), `alias *${node.source} has no anchor &${node.source} before it`));
  }
  let data: unknown;
  try {
    data = f.doc.toJS() ?? {};
  } catch (e) {
    // Only anchors and aliases make toJS throw (an alias in a key, too many aliases); those in values are reported above.
    if (!diagnostics.some((d) => d.severity === 'error')) diagnostics.push(error(locationOf(f, top), `not valid YAML: ${(e as Error).message}`));
    return result();
  }
  for (const e of schemaErrors(data)) {
    const diagnostic = schemaDiagnostic(f, e, unresolved);
    if (diagnostic) diagnostics.push(diagnostic);
  }
  const manifest = buildManifest(f, unresolved, diagnostics);
  if (environment !== undefined) manifest.environment = environment;
  return result(manifest);
}
