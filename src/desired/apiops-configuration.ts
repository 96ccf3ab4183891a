/**
 * APIOps's per-environment overrides, `configuration.<environment>.yaml`: `namedValues: [{name,
 * properties}]` and `backends: [{name, properties}]`, each entry's `properties` merged deeply onto
 * the information file's (objects key by key; arrays and scalars replaced). Read only when an
 * environment is chosen (`--environment`, input `environment`); other APIOps sections (`apis`,
 * `diagnostics`, …) configure what this tool does not deploy and are ignored with one info.
 *
 * This is for users coming from APIOps; the project's own `environments/<name>.yaml` holds the
 * variables of identity.yaml and is read beside it (see identity-variables.ts).
 */
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMap, isScalar, isSeq, type Node } from 'yaml';
import { addressKey } from '../model/address.js';
import { closestName } from '../model/closest-name.js';
import type { EntityKind, EntityResource } from '../model/entities.js';
import type { Diagnostic } from '../model/index.js';
import { ENTITY_KINDS } from '../model/kinds.js';
import { keyText, locationOf, parseYaml, type YamlFile } from './identity-yaml.js';
import type { TextSpan } from './load-entities.js';
import { FILE_LIMITS, FileRefusedError, readTreeText } from './safe-file.js';

export const CONFIGURATION_RULE = 'apiops-configuration';

/** The section of the configuration file of each kind (APIOps's own names). */
const SECTION: Record<EntityKind, string> = { namedValue: 'namedValues', backend: 'backends' };
const FOLDER_WORDS: Record<EntityKind, string> = { namedValue: 'named values/<name>/namedValueInformation.json', backend: 'backends/<name>/backendInformation.json' };

export const configurationFileName = (environment: string) => `configuration.${environment}.yaml`;

/** Objects merged key by key; arrays and scalars (and null) replace what was there. */
export function mergeDeep(base: unknown, over: unknown): unknown {
  const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(base) || !isObj(over)) return over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = k in base ? mergeDeep(base[k], v) : v;
  return out;
}

function diagnosticOf(f: YamlFile, node: unknown, message: string, severity: Diagnostic['severity'] = 'error'): Diagnostic {
  const at = locationOf(f, node);
  return { severity, rule: CONFIGURATION_RULE, file: at.file, line: at.line, column: at.column, message };
}

/**
 * Where the file is: the policies root first, then the folder above it — APIOps keeps its
 * configuration files beside the artifacts folder (`configuration.prod.yaml` next to
 * `apimartifacts/`), and `--policies` points at the artifacts folder itself.
 */
function findConfiguration(root: string, shownRoot: string, environment: string, diagnostics: Diagnostic[]): YamlFile | undefined {
  const name = configurationFileName(environment);
  for (const [dir, shownDir] of [
    [root, shownRoot],
    [resolve(root, '..'), join(shownRoot, '..')],
  ] as const) {
    const shown = join(shownDir, name);
    let text: string | undefined;
    try {
      if (!statSync(dir).isDirectory()) continue;
      text = readTreeText(join(dir, name), { root: dir, maxBytes: FILE_LIMITS.config, label: shown, what: name, missingOk: true });
    } catch (e) {
      if (!(e instanceof FileRefusedError)) throw e;
      diagnostics.push({ severity: 'error', rule: CONFIGURATION_RULE, file: shown, line: 1, column: 1, message: e.reason });
      return undefined;
    }
    if (text !== undefined) return parseYaml(shown, text, CONFIGURATION_RULE, diagnostics);
  }
  return undefined;
}

/**
 * Applies `configuration.<environment>.yaml` to the loaded entities (their properties are
 * replaced by the merged ones) and returns, by address key, the span of the entry that changed
 * each, so that a problem in a value it set is reported there.
 */
export function applyConfiguration(root: string, environment: string, resources: Map<string, EntityResource>, diagnostics: Diagnostic[], shownRoot = root): Map<string, TextSpan> {
  const spans = new Map<string, TextSpan>();
  // The name becomes part of a file name: nothing that climbs or splits a path.
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(environment)) return spans;
  const f = findConfiguration(root, shownRoot, environment, diagnostics);
  if (!f || f.doc.contents === null) return spans;
  const top = f.doc.contents;
  if (!isMap(top)) {
    diagnostics.push(diagnosticOf(f, top, `${configurationFileName(environment)} must be a map: namedValues: [{name, properties}], backends: [{name, properties}]`));
    return spans;
  }
  const ignored: string[] = [];
  for (const pair of top.items) {
    const section = keyText(pair.key);
    const kind = ENTITY_KINDS.find((k) => SECTION[k] === section);
    if (!kind) {
      ignored.push(section);
      continue;
    }
    if (pair.value === null || (isScalar(pair.value) && pair.value.value === null)) continue;
    if (!isSeq(pair.value)) {
      diagnostics.push(diagnosticOf(f, pair.value ?? pair.key, `${section} must be a list of entries: - name: <id>\n  properties: {…}`));
      continue;
    }
    for (const item of pair.value.items) applyEntry(f, kind, item as Node, resources, spans, diagnostics);
  }
  if (ignored.length) {
    diagnostics.push(
      diagnosticOf(
        f,
        top,
        `sections ${ignored.map((s) => `"${s}"`).join(', ')} are not read: this tool deploys policies, named values and backends, so only namedValues and backends of ${configurationFileName(environment)} apply`,
        'info',
      ),
    );
  }
  return spans;
}

function applyEntry(f: YamlFile, kind: EntityKind, item: Node, resources: Map<string, EntityResource>, spans: Map<string, TextSpan>, diagnostics: Diagnostic[]): void {
  const section = SECTION[kind];
  if (!isMap(item)) {
    diagnostics.push(diagnosticOf(f, item, `each entry of ${section} is a map: - name: <id>\n  properties: {…}`));
    return;
  }
  const namePair = item.items.find((p) => keyText(p.key) === 'name');
  const propsPair = item.items.find((p) => keyText(p.key) === 'properties');
  for (const p of item.items) {
    const k = keyText(p.key);
    if (k !== 'name' && k !== 'properties') diagnostics.push(diagnosticOf(f, p.key, `unknown key "${k}" in an entry of ${section}: an entry holds name and properties`, 'warning'));
  }
  const name = isScalar(namePair?.value) ? namePair.value.value : undefined;
  if (typeof name !== 'string' || name === '') {
    diagnostics.push(diagnosticOf(f, namePair?.value ?? item, `an entry of ${section} needs name: the id of the ${kind === 'namedValue' ? 'named value' : 'backend'} (its folder's name)`));
    return;
  }
  // The service's own entities (not a workspace's): APIOps's configuration names them by id.
  const candidates = [...resources.values()].filter((r) => r.kind === kind && r.workspace === undefined);
  const target = candidates.find((r) => r.id.toLowerCase() === name.toLowerCase());
  if (!target) {
    const near = closestName(
      name,
      candidates.map((r) => r.id),
      { charactersPerSlip: 4 },
    );
    diagnostics.push(
      diagnosticOf(
        f,
        namePair!.value,
        `${section} entry "${name}": the tree has no ${FOLDER_WORDS[kind].replace('<name>', name)}${near ? ` — did you mean "${near}"?` : ''}; an entry only overrides the properties of one the tree has, so add its folder or fix the name`,
      ),
    );
    return;
  }
  if (!propsPair) return;
  const props = propsPair.value as Node | null;
  if (!isMap(props)) {
    diagnostics.push(diagnosticOf(f, props ?? propsPair.key, `properties of ${section} entry "${name}" must be a map of ARM properties (displayName, value, …)`));
    return;
  }
  const over = props.toJS(f.doc) as Record<string, unknown>;
  target.properties = mergeDeep(target.properties, over) as Record<string, unknown>;
  const range = item.range ?? [0, f.text.length, f.text.length];
  spans.set(addressKey(target.address), { file: f.shown, text: f.text, from: (propsPair.key as Node | null)?.range?.[0] ?? range[0], to: range[1], yaml: true, sets: over });
}
