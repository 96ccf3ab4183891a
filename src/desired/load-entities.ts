/**
 * Named values and backends of a policies tree, in APIOps's layout (the kinds table's tree paths):
 * `named values/<id>/namedValueInformation.json` and `backends/<id>/backendInformation.json`, at
 * the root and in `workspaces/<w>/`. Each file is `{"properties": {…}}`, ARM's `properties` as
 * the PUT takes them. What ARM would refuse is an error at the file, line and column to change, so
 * nothing is written to Azure from a file that cannot deploy.
 *
 * The rules are ARM's, from the 2024-05-01 REST spec (Azure/azure-rest-api-specs,
 * specification/apimanagement/resource-manager/Microsoft.ApiManagement/stable/2024-05-01):
 * - apimnamedvalues.json, parameter NamedValueIdParameter: maxLength 256, pattern `^[^*#&+:<>?]+$`.
 * - definitions.json, NamedValueCreateContractProperties: `displayName` required, minLength 1,
 *   maxLength 256, pattern `^[A-Za-z0-9-._]+$`; `value` maxLength 4096 ("may not be empty or
 *   consist only of whitespace"); NamedValueEntityBaseParameters: `tags` string array, maxItems 32,
 *   `secret` boolean; KeyVaultContractCreateProperties: `secretIdentifier` (the Key Vault secret's
 *   URL), `identityClientId`. A value is either written (`value`) or fetched from Key Vault, so
 *   exactly one of the two is set.
 * - apimbackends.json, parameter BackendIdParameter: minLength 1, maxLength 80, pattern
 *   `^[^*#&+:<>?]+$`; definitions.json, BackendContractProperties: `url` (minLength 1, maxLength
 *   2000; "Required when backend type is 'Single'", so a `Pool` backend has none) and `protocol`
 *   (enum `http`, `soap`) required; BackendBaseParameters the other keys.
 */
import { lstatSync, readdirSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { addressKey } from '../model/address.js';
import { idSegmentProblem } from '../model/arm-id.js';
import { closestName } from '../model/closest-name.js';
import type { DesiredEntities, EntityKind, EntityResource } from '../model/entities.js';
import type { Diagnostic, Severity } from '../model/index.js';
import { ENTITY_KINDS, formatAddress, kindRow, parseTreePath, WORKSPACE_TREE, type Located } from '../model/kinds.js';
import { resolveTokens, tokensIn, tokensOf, tokenText } from '../model/tokens.js';
import { FILE_LIMITS, FileRefusedError, readTreeText } from './safe-file.js';

/** Rule of the problems in an information file. */
export const ENTITY_RULE = 'entity-file';
export const TOKEN_RULE = 'token';
export const SECRET_IN_REPO_RULE = 'secret-in-repo';

/** Text with a place: where a string of the properties can be found to name its line. */
export interface TextSpan {
  file: string;
  text: string;
  /** Offset where the span starts (the properties of an information file, an entry of the configuration). */
  from: number;
  /** Offset where it ends. */
  to: number;
  /** YAML (a configuration entry) rather than JSON: keys are found as YAML writes them. */
  yaml?: boolean;
  /** The top-level properties this span sets (a configuration entry's); absent: all (the information file). */
  sets?: Record<string, unknown>;
}

export interface LoadedEntities {
  entities: DesiredEntities;
  /** The information file of each entity, by address key. */
  sources: Map<string, TextSpan>;
}

const NAME_PATTERN = /^[^*#&+:<>?]+$/;
const ID_RULES: Record<EntityKind, { max: number; what: string }> = { namedValue: { max: 256, what: 'named value id' }, backend: { max: 80, what: 'backend id' } };

/** The keys of ARM's `properties` of each kind (2024-05-01). */
export const KNOWN_KEYS: Record<EntityKind, readonly string[]> = {
  namedValue: ['displayName', 'value', 'secret', 'keyVault', 'tags'],
  backend: ['title', 'description', 'resourceId', 'properties', 'credentials', 'proxy', 'tls', 'circuitBreaker', 'pool', 'type', 'url', 'protocol'],
};

/** 1-based line and column of an offset. */
export function positionAt(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, offset));
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

function diag(file: string, text: string, offset: number, message: string, severity: Severity = 'error', rule = ENTITY_RULE, address?: string): Diagnostic {
  return { severity, rule, file, ...positionAt(text, offset), message, ...(address ? { address } : {}) };
}

/** Offset of the key `key` in the span (the first one: `"key":` in JSON, `key:` in YAML), or the span's start. */
export function keyOffset(span: TextSpan, key: string): number {
  const k = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = span.yaml ? new RegExp(`(^|[\\s{,])["']?${k}["']?\\s*:`, 'gm') : new RegExp(`()"${k}"\\s*:`, 'g');
  re.lastIndex = span.from;
  const m = re.exec(span.text);
  return m && m.index < span.to ? m.index + m[1]!.length : span.from;
}

/** The span that sets a top-level key last: the configuration entry that overrides it, else the information file. */
export function spanOfKey(spans: readonly TextSpan[], key: string): TextSpan {
  for (let i = spans.length - 1; i > 0; i--) if (spans[i]!.sets && key in spans[i]!.sets!) return spans[i]!;
  return spans[0]!;
}

/** The folders of the tree that may hold entities: the root, and each workspace's folder. */
function baseFolders(root: string): Array<{ dir: string; prefix: string[] }> {
  const out: Array<{ dir: string; prefix: string[] }> = [{ dir: root, prefix: [] }];
  const [wsFolder] = WORKSPACE_TREE.split('/');
  for (const e of readdirSafe(join(root, wsFolder!)) ?? []) {
    // A symbolically linked folder is not entered (the tree walk of load-tree.ts reports it).
    if (e.isDirectory() && !e.name.startsWith('.')) out.push({ dir: join(root, wsFolder!, e.name), prefix: [wsFolder!, e.name] });
  }
  return out;
}

/**
 * Reads every named value and backend of the tree. `shownRoot` is how files are named in
 * messages (the root as given, like the policies' files).
 */
export function loadEntities(root: string, diagnostics: Diagnostic[], shownRoot = root): LoadedEntities {
  const resources = new Map<string, EntityResource>();
  const sources = new Map<string, TextSpan>();
  const managed = new Set<EntityKind>();
  const seen = new Map<string, string>();
  for (const base of baseFolders(root)) {
    for (const kind of ENTITY_KINDS) {
      // Tree paths of these kinds are `<folder>/{id}/<information file>`.
      const [folder, , infoFile] = kindRow(kind).tree![0]!.split('/');
      const dir = join(base.dir, folder!);
      const entries = readdirSafe(dir);
      if (!entries) continue;
      managed.add(kind);
      for (const e of entries) {
        if (e.name.startsWith('.')) continue;
        const relParts = [...base.prefix, folder!, e.name];
        // Folders only: a symbolically linked one is not entered (the tree walk reports it).
        if (!e.isDirectory()) continue;
        const parts = [...relParts, infoFile!];
        const at = parseTreePath(parts, ENTITY_KINDS);
        if (!at || at.kind !== kind) continue;
        const shown = join(shownRoot, ...parts);
        const loaded = loadOne(root, join(base.dir, folder!, e.name, infoFile!), shown, at, diagnostics);
        if (!loaded) continue;
        const key = addressKey(loaded.resource.address);
        const other = seen.get(key);
        if (other) {
          diagnostics.push(diag(shown, '', 0, `${other} already defines ${loaded.resource.address}; ARM names are case-insensitive, so keep one of the two folders`));
          continue;
        }
        seen.set(key, shown);
        resources.set(key, loaded.resource);
        sources.set(key, loaded.span);
      }
    }
  }
  return { entities: { resources, managed }, sources };
}

/** The entries of a folder; undefined when it is none (missing, a file, or a symbolic link, which is not entered). */
function readdirSafe(dir: string): Dirent[] | undefined {
  try {
    if (!lstatSync(dir).isDirectory()) return undefined;
    return readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return undefined;
  }
}

function idProblem(kind: EntityKind, id: string): string | undefined {
  const rule = ID_RULES[kind];
  if (id.length === 0 || id.length > rule.max) return `${rule.what} "${id}" must be 1 to ${rule.max} characters long`;
  const unsafe = idSegmentProblem(id);
  if (unsafe) return `${rule.what} ${JSON.stringify(id)} ${unsafe}`;
  if (!NAME_PATTERN.test(id)) return `${rule.what} "${id}" may not contain any of * # & + : < > ?`;
  return undefined;
}

/** Where a JSON.parse error is: Node says "at position N" (and sometimes the line and column). */
function jsonErrorOffset(text: string, message: string): number {
  const at = /position (\d+)/.exec(message);
  return at ? Number(at[1]) : text.length;
}

function loadOne(root: string, path: string, shown: string, at: Located, diagnostics: Diagnostic[]): { resource: EntityResource; span: TextSpan } | undefined {
  const kind = at.kind as EntityKind;
  const id = Object.values(at.params)[0]!;
  const address = formatAddress(at)!;
  const problems = [
    ...(at.workspace !== undefined ? [idSegmentProblem(at.workspace) ? `workspace id ${JSON.stringify(at.workspace)} ${idSegmentProblem(at.workspace)}` : undefined] : []),
    idProblem(kind, id),
  ];
  const bad = problems.filter((p): p is string => !!p);
  if (bad.length) {
    for (const p of bad) diagnostics.push(diag(shown, '', 0, `${p} (ARM would reject it; rename the folder)`));
    return undefined;
  }
  const infoFile = kindRow(kind).tree![0]!.split('/')[2]!;
  let text: string | undefined;
  try {
    text = readTreeText(path, { root, maxBytes: FILE_LIMITS.config, label: shown, what: infoFile, missingOk: true });
  } catch (e) {
    if (!(e instanceof FileRefusedError)) throw e;
    // A link out of the tree is already reported by the tree walk (load-tree.ts); once is enough.
    if (!diagnostics.some((d) => d.file === shown && d.severity === 'error')) diagnostics.push(diag(shown, '', 0, e.reason));
    return undefined;
  }
  if (text === undefined) {
    diagnostics.push(diag(shown, '', 0, `${kindRow(kind).arm.split('/')[0]} folder "${id}" has no ${infoFile}; add it ({"properties": {…}}) or remove the folder`));
    return undefined;
  }
  text = text.replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const message = (e as Error).message.replace(/\s*\(line \d+ column \d+\)/, '');
    diagnostics.push(diag(shown, text, jsonErrorOffset(text, message), `not valid JSON: ${message}; fix the file (it holds {"properties": {…}})`));
    return undefined;
  }
  const whole: TextSpan = { file: shown, text, from: 0, to: text.length };
  const properties = json && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>)['properties'] : undefined;
  if (!properties || typeof properties !== 'object' || Array.isArray(properties)) {
    diagnostics.push(
      diag(shown, text, keyOffset(whole, 'properties'), `${infoFile} must hold a "properties" object ({"properties": {…}}, ARM's properties of the ${ID_RULES[kind].what.replace(/ id$/, '')})`),
    );
    return undefined;
  }
  const from = keyOffset(whole, 'properties');
  const span: TextSpan = { file: shown, text, from, to: text.length };
  const resource: EntityResource = { type: 'entity', kind, address, id, properties: properties as Record<string, unknown>, file: shown, line: positionAt(text, from).line };
  if (at.workspace !== undefined) resource.workspace = at.workspace;
  return { resource, span };
}

/**
 * What ARM would refuse in an entity's properties (after the configuration's overrides), each at
 * the line of the key in `spanOf(key)` (the information file, or the configuration entry that set it).
 */
export function checkEntity(resource: EntityResource, spans: readonly TextSpan[], diagnostics: Diagnostic[]): void {
  const p = resource.properties;
  const report = (key: string, message: string, severity: Severity = 'error') => {
    const top = key === 'secretIdentifier' || key === 'identityClientId' ? 'keyVault' : key;
    const owner = spanOfKey(spans, top);
    // A nested key is looked for after its parent's key.
    const span = top === key ? owner : { ...owner, from: keyOffset(owner, top) };
    diagnostics.push(diag(span.file, span.text, keyOffset(span, key), `${resource.address}: ${message}`, severity, ENTITY_RULE, resource.address));
  };
  const known = KNOWN_KEYS[resource.kind];
  for (const key of Object.keys(p)) {
    if (known.includes(key)) continue;
    const near = closestName(key, known, { charactersPerSlip: 4, swaps: true });
    report(key, `unknown property "${key}"${near ? ` — did you mean "${near}"?` : ''}; ARM's properties here are: ${known.join(', ')}`, 'warning');
  }
  if (resource.kind === 'namedValue') checkNamedValue(p, report);
  else checkBackend(p, report);
}

type Report = (key: string, message: string, severity?: Severity) => void;
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function checkNamedValue(p: Record<string, unknown>, report: Report): void {
  const name = p['displayName'];
  if (name === undefined) report('displayName', 'a named value needs "displayName" (the name policies use in {{…}}): letters, digits, ".", "-" and "_", 1 to 256 characters');
  else if (typeof name !== 'string' || name.length < 1 || name.length > 256) report('displayName', '"displayName" must be a string of 1 to 256 characters');
  else if (!/^[A-Za-z0-9-._]+$/.test(name)) report('displayName', `"displayName" "${name}" may contain only letters, digits, ".", "-" and "_"`);
  const value = p['value'];
  const keyVault = p['keyVault'];
  const secretId = isObject(keyVault) ? keyVault['secretIdentifier'] : undefined;
  if (keyVault !== undefined && !isObject(keyVault))
    report('keyVault', '"keyVault" must be an object: {"secretIdentifier": "https://<vault>.vault.azure.net/secrets/<name>", "identityClientId"?: "<client id>"}');
  if (value !== undefined && secretId !== undefined) report('value', 'set either "value" or "keyVault.secretIdentifier", not both (a value is written here or fetched from Key Vault)');
  else if (value === undefined && secretId === undefined)
    report('value', 'a named value needs "value" or "keyVault": {"secretIdentifier": …}; for a secret, write "value": "{#TOKEN#}" and set the environment variable TOKEN');
  if (value !== undefined) {
    if (typeof value !== 'string') report('value', '"value" must be a string');
    else if (value.trim() === '') report('value', '"value" may not be empty or only whitespace (ARM refuses it)');
    else if (value.length > 4096) report('value', `"value" is ${value.length} characters; ARM takes at most 4096 (keep a longer one in Key Vault)`);
  }
  if (isObject(keyVault)) {
    if (secretId === undefined) report('keyVault', '"keyVault" needs "secretIdentifier": the URL of the Key Vault secret (https://<vault>.vault.azure.net/secrets/<name>)');
    else if (typeof secretId !== 'string' || !isHttpsUrl(secretId))
      report('secretIdentifier', '"keyVault.secretIdentifier" must be the https URL of the Key Vault secret (https://<vault>.vault.azure.net/secrets/<name>)');
    const client = keyVault['identityClientId'];
    if (client !== undefined && client !== null && typeof client !== 'string')
      report('identityClientId', '"keyVault.identityClientId" must be a string: the client ID of a user-assigned identity of the instance');
  }
  const secret = p['secret'];
  if (secret !== undefined && typeof secret !== 'boolean') report('secret', '"secret" must be true or false (not a string)');
  const tags = p['tags'];
  if (tags !== undefined) {
    if (!Array.isArray(tags) || tags.some((t) => typeof t !== 'string')) report('tags', '"tags" must be a list of strings');
    else if (tags.length > 32) report('tags', `"tags" has ${tags.length} entries; ARM takes at most 32`);
  }
}

function isHttpsUrl(s: string): boolean {
  if (tokensIn(s).length) return /^https:\/\//i.test(s);
  try {
    const u = new URL(s);
    return u.protocol === 'https:' && !!u.hostname;
  } catch {
    return false;
  }
}

function isAbsoluteUrl(s: string): boolean {
  // A token may stand for the host or more: only the scheme can be checked before it is resolved.
  if (tokensIn(s).length) return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith(tokenText(tokensIn(s)[0]!));
  try {
    const u = new URL(s);
    return !!u.protocol && (!!u.hostname || u.protocol === 'urn:');
  } catch {
    return false;
  }
}

function checkBackend(p: Record<string, unknown>, report: Report): void {
  const type = p['type'];
  if (type !== undefined && type !== 'Single' && type !== 'Pool') report('type', '"type" must be "Single" or "Pool"');
  const url = p['url'];
  if (url === undefined) {
    if (type !== 'Pool') report('url', 'a backend needs "url": the absolute URL requests are sent to (1 to 2000 characters)');
  } else if (typeof url !== 'string' || url.length < 1 || url.length > 2000) report('url', '"url" must be a string of 1 to 2000 characters');
  else if (!isAbsoluteUrl(url)) report('url', `"url" "${url}" is not an absolute URL; write it with its scheme (https://host/path)`);
  const protocol = p['protocol'];
  if (protocol === undefined) report('protocol', 'a backend needs "protocol": "http" (REST and everything else) or "soap"');
  else if (protocol !== 'http' && protocol !== 'soap') report('protocol', `"protocol" must be "http" or "soap", not ${JSON.stringify(protocol)}`);
}

/** The texts an entity's properties come from: its information file first, then the configuration entry that overrides it. */
export type TokenSpans = (resource: EntityResource) => TextSpan[];

/**
 * The values of every `{#TOKEN#}` the entities use, from `env`. A missing one is an error at the
 * string that uses it (nothing when `tokens` is `optional`: a check that needs no secret). The properties keep their tokens; values are returned only, never printed.
 * A secret named value written literally is a warning (`secret-in-repo`).
 */
export function resolveEntitySecrets(
  resources: Iterable<EntityResource>,
  spansOf: TokenSpans,
  env: Readonly<Record<string, string | undefined>>,
  diagnostics: Diagnostic[],
  tokens: 'required' | 'optional' = 'required',
): Map<string, string> {
  const secrets = new Map<string, string>();
  const reported = new Set<string>();
  for (const r of resources) {
    const spans = spansOf(r);
    for (const token of tokensOf(r.properties)) {
      const { missing } = resolveTokens(tokenText(token), env);
      if (!missing.length) {
        secrets.set(token, env[token]!);
        continue;
      }
      // A check that needs no secret (lint, a fork's pull request, a plan against a snapshot folder): nothing to say.
      if (tokens === 'optional') continue;
      const written = tokenText(token);
      const span = [...spans].reverse().find((s) => s.text.slice(s.from, s.to).includes(written)) ?? spans[0]!;
      const at = span.text.indexOf(written, span.from);
      const where = `${span.file}:${positionAt(span.text, at < 0 ? span.from : at).line}`;
      if (reported.has(`${token}\n${where}`)) continue;
      reported.add(`${token}\n${where}`);
      diagnostics.push(
        diag(
          span.file,
          span.text,
          at < 0 ? span.from : at,
          `${r.address}: ${written} needs the environment variable ${token}, which is not set; set the environment variable ${token} ` +
            `(in GitHub Actions: \`env: { ${token}: \${{ secrets.${token} }} }\` on the step)`,
          'error',
          TOKEN_RULE,
          r.address,
        ),
      );
    }
    const value = r.properties['value'];
    if (r.kind === 'namedValue' && r.properties['secret'] === true && typeof value === 'string' && tokensIn(value).length === 0) {
      const span = spanOfKey(spans, 'value');
      const offset = keyOffset(span, 'value');
      diagnostics.push(
        diag(
          span.file,
          span.text,
          offset,
          `${r.address}: a secret value is written in the repository; use {#TOKEN#} ("value": "${tokenText('TOKEN')}") and set the environment variable TOKEN from a secret`,
          'warning',
          SECRET_IN_REPO_RULE,
          r.address,
        ),
      );
    }
  }
  return secrets;
}
