/**
 * Per-environment values of identity.yaml: `environments/<name>.yaml` holds `variables:`, and
 * `${NAME}` in identity.yaml takes the chosen environment's value. Every reference that cannot be
 * resolved is a diagnostic at the reference.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isScalar, type Node } from 'yaml';
import { closestManifestName } from '../model/closest-name.js';
import type { Diagnostic } from '../model/index.js';
import { VARIABLES_RULE, deref, diagnosticAt, entry, keyText, locationAt, locationOf, parseYaml, valueNodes, type YamlFile } from './identity-yaml.js';
import { FILE_LIMITS, FileRefusedError, readTreeText } from './safe-file.js';

const ENVIRONMENTS_DIR = 'environments';
/** `${NAME}`, or a `${` that no `}` closes. */
const REFERENCE = /\$\{([^}]*)\}|\$\{/g;
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export type VariableValue = string | number | boolean;

export type Variables =
  /** No environment chosen. */
  | { kind: 'none'; available: string[] }
  /** Chosen but unusable; already reported. */
  | { kind: 'failed' }
  /** Chosen but it has no file: only an error where a variable is used (the name also marks comments). */
  | { kind: 'missing'; message: string }
  /** `broken` names are defined with a value that was reported as wrong. */
  | { kind: 'loaded'; shown: string; values: Map<string, VariableValue>; broken: Set<string> };

export function environmentNames(root: string): string[] {
  try {
    return readdirSync(join(root, ENVIRONMENTS_DIR))
      .filter((n) => n.endsWith('.yaml'))
      .map((n) => n.slice(0, -'.yaml'.length))
      .sort();
  } catch {
    return [];
  }
}

const listEnvironments = (names: string[]): string => (names.length ? `environments: ${names.join(', ')}` : `there is no environment yet (${ENVIRONMENTS_DIR}/<name>.yaml with variables:)`);

/** Reads `environments/<name>.yaml`: `variables:` maps NAME to a string, number or boolean. */
export function loadVariables(root: string, shownRoot: string, name: string, manifestFile: string, diagnostics: Diagnostic[]): Variables {
  const start = { file: manifestFile, line: 1, column: 1 };
  if (!ENVIRONMENT_NAME.test(name)) {
    diagnostics.push(diagnosticAt(start, `environment "${name}" is not a valid name: use letters, digits, ".", "-" and "_"`, VARIABLES_RULE));
    return { kind: 'failed' };
  }
  const file = `${name}.yaml`;
  const shown = join(shownRoot, ENVIRONMENTS_DIR, file);
  let text: string | undefined;
  try {
    text = readTreeText(join(root, ENVIRONMENTS_DIR, file), { root, maxBytes: FILE_LIMITS.config, label: shown, what: 'environment files', missingOk: true });
  } catch (e) {
    if (!(e instanceof FileRefusedError)) throw e;
    diagnostics.push(diagnosticAt({ file: shown, line: 1, column: 1 }, e.reason, VARIABLES_RULE));
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
    diagnostics.push(diagnosticAt(locationOf(f, top), `${shown} must be a map with variables: at the top level`, VARIABLES_RULE));
    return { kind: 'failed' };
  }
  for (const pair of top.items) {
    if (keyText(pair.key) !== 'variables') {
      diagnostics.push(diagnosticAt(locationOf(f, pair.key), `unknown key "${keyText(pair.key)}": an environment file holds only variables:`, VARIABLES_RULE));
    }
  }
  const variables = entry(f, top, 'variables').value;
  if (variables === undefined || (isScalar(variables) && variables.value === null)) return { kind: 'loaded', shown, values, broken };
  if (!isMap(variables)) {
    diagnostics.push(diagnosticAt(locationOf(f, variables), 'variables must be a map of NAME: value', VARIABLES_RULE));
    return { kind: 'failed' };
  }
  for (const pair of variables.items) {
    const variable = keyText(pair.key);
    if (!VARIABLE_NAME.test(variable)) {
      const message = `variable name "${variable}" is not valid: use letters, digits and "_", not starting with a digit`;
      diagnostics.push(diagnosticAt(locationOf(f, pair.key), message, VARIABLES_RULE));
      continue;
    }
    const value = deref(f, pair.value);
    if (isScalar(value) && ['string', 'number', 'boolean'].includes(typeof value.value)) {
      values.set(variable, value.value as VariableValue);
    } else {
      broken.add(variable);
      const what = isScalar(value) && value.value === null ? 'has no value' : 'must be a string, a number or true/false';
      diagnostics.push(diagnosticAt(locationOf(f, value ?? pair.key), `variable ${variable} ${what}`, VARIABLES_RULE));
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
  const suggestion = closestManifestName(name, known);
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
export function substitute(f: YamlFile, variables: Variables, diagnostics: Diagnostic[]): Set<Node> {
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
      if (problem) diagnostics.push(diagnosticAt(at, problem, VARIABLES_RULE));
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
