/**
 * Loads a policies tree in the APIOps artifact layout (README, "The policies tree") into a State.
 * The same loader reads the desired tree and a live snapshot written by `extract`.
 */
import { readdirSync, realpathSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { addressKey, policyAddress, scopeOfLocated } from '../model/address.js';
import { kindRow, parseTreePath, POLICY_KINDS } from '../model/kinds.js';
import { idSegmentProblem } from '../model/arm-id.js';
import type { DesiredEntities } from '../model/entities.js';
import type { IdentityManifest } from '../model/identity.js';
import type { LintConfig } from '../model/lint.js';
import type { Diagnostic, PolicyResource, PolicyScope, State } from '../model/index.js';
import type { PolicyDocument } from '../policy-xml/index.js';
import { PolicySyntaxError, canonicalize, parsePolicyDocument } from '../policy-xml/index.js';
import { FILE_LIMITS, FileRefusedError, readTreeFile, readTreeText, statSyncOrUndefined, symlinkProblem } from './safe-file.js';

export interface LoadedTree {
  state: State;
  /** Parse errors and layout problems, each with its file; errors mean the tree cannot be deployed. */
  diagnostics: Diagnostic[];
  /** Canonical form by address key, computed once while loading. */
  canonical: Map<string, string>;
  /**
   * Parsed documents by address key, for lint and the reference checks: parsed again from the
   * loaded text on each use, not kept (a parsed document takes about 15 times the memory of its
   * text; a 5,000-policy tree would hold 80 MB of them).
   */
  documents: DocumentSource;
  /** identity.yaml, when the tree has one (see load-desired.ts). */
  identity?: IdentityManifest;
  /** Named values and backends of the tree (load-desired.ts); none managed when absent. */
  entities?: DesiredEntities;
  /**
   * The values of the `{#TOKEN#}`s the tree's named values and backends name, from the
   * environment (in memory only; a host with a log masks each).
   */
  secrets?: Map<string, string>;
  /** apim-policy-lint.yaml, when the tree has one (see load-desired.ts). */
  lintConfig?: LintConfig;
}

/** The parsed documents of a tree, made from its resources' text when asked for. */
export interface DocumentSource extends Iterable<[string, PolicyDocument]> {
  get(key: string): PolicyDocument | undefined;
  readonly size: number;
}

/** Documents of `resources` (only those that parsed when the tree was loaded: the others have none). */
export function documentsOf(resources: Map<string, PolicyResource>): DocumentSource {
  const parse = (r: PolicyResource) => parsePolicyDocument(r.xml, { file: r.file ?? r.address, expect: r.scope.kind === 'fragment' ? 'fragment' : 'policies', parsedBefore: true });
  return {
    get: (key) => {
      const r = resources.get(key);
      return r ? parse(r) : undefined;
    },
    get size() {
      return resources.size;
    },
    *[Symbol.iterator]() {
      for (const [key, r] of resources) yield [key, parse(r)];
    },
  };
}

/** ARM's own rules for the names that appear in the layout (apimanagement 2024-05-01 spec). */
const NAME_RULES = {
  api: { pattern: /^[^*#&+:<>?]+$/, max: 256, what: 'API id' },
  operation: { pattern: /^[^*#&+:<>?]+$/, max: 80, what: 'operation id' },
  product: { pattern: /^[^*#&+:<>?]+$/, max: 256, what: 'product id' },
  fragment: { pattern: /^(\w+|\w[\w-]+\w)$/, max: 80, what: 'policy fragment id' },
  workspace: { pattern: /^[^*#&+:<>?]+$/, max: 80, what: 'workspace id' },
} as const;

function nameProblem(kind: keyof typeof NAME_RULES, name: string): string | undefined {
  const rule = NAME_RULES[kind];
  let id = name;
  if (kind === 'api') {
    const rev = /;rev=(.*)$/i.exec(name);
    if (rev) {
      if (!/^[1-9]\d*$/.test(rev[1]!)) return `API revision "${rev[0]}" must be ";rev=" followed by a number`;
      id = name.slice(0, rev.index);
    }
  }
  if (id.length === 0 || id.length > rule.max) return `${rule.what} "${name}" must be 1 to ${rule.max} characters long`;
  const unsafe = idSegmentProblem(name);
  if (unsafe) return `${rule.what} ${JSON.stringify(name)} ${unsafe}`;
  if (!rule.pattern.test(id)) {
    return kind === 'fragment' ? `${rule.what} "${name}" may contain only letters, digits, "_" and "-" (not at either end)` : `${rule.what} "${name}" may not contain any of * # & + : < > ?`;
  }
  return undefined;
}

// Synchronous reads on purpose: thousands of small local files load several times faster than
// through the thread pool, and nothing else runs while a tree loads.
/**
 * Every entry of the tree that is not a folder (regular files, and FIFOs or devices, which the
 * read then refuses by name rather than the walk skipping them: a skipped policy.xml would be
 * planned as a delete). Symbolic links: to a file inside the tree, followed (listed at the link's
 * path); out of the tree, nowhere, or to a folder, an error naming the link — folders are not
 * followed (no cycles, and every policy is where its path says).
 */
function listFiles(root: string, shownRoot: string, diagnostics: Diagnostic[]): string[] {
  const out: string[] = [];
  const realRoot = realpathSync.native(root);
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isSymbolicLink()) {
        const shown = join(shownRoot, relative(root, p));
        const { real, problem } = symlinkProblem(p, realRoot);
        if (problem) diagnostics.push(diagnostic(shown, problem));
        else if (statSyncOrUndefined(real!)?.isDirectory()) {
          diagnostics.push(diagnostic(shown, 'is a symbolic link to a folder, which is not followed; make it a folder of its own (or link the files in it one by one)'));
        } else out.push(p);
      } else out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

interface Placement {
  scope: PolicyScope;
  names: Array<[keyof typeof NAME_RULES, string]>;
}

/** The name rule of each id a tree path of the kinds table holds. */
const RULE_OF_PARAM: Record<string, keyof typeof NAME_RULES> = { workspace: 'workspace', apiId: 'api', operationId: 'operation', productId: 'product', fragmentId: 'fragment' };

/** Where a `policy.xml` at this relative path (split on "/") belongs, if anywhere (the kinds table's tree paths). */
export function placementOf(parts: string[]): Placement | undefined {
  const at = parseTreePath(parts, POLICY_KINDS);
  const scope = at && scopeOfLocated(at);
  if (!at || !scope) return undefined;
  const ids: Array<[string, string]> = [...(at.workspace !== undefined ? [['workspace', at.workspace] as [string, string]] : []), ...Object.entries(at.params)];
  return { scope, names: ids.map(([param, name]) => [RULE_OF_PARAM[param]!, name]) };
}

function diagnostic(file: string, message: string, line = 1, column = 1, rule = 'layout'): Diagnostic {
  return { severity: 'error', rule, file, line, column, message };
}

const FRAGMENT_INFO = kindRow('fragment').infoFile!;

function decodeUtf8(bytes: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    const loose = new TextDecoder('utf-8').decode(bytes);
    const before = loose.slice(0, loose.indexOf('\uFFFD'));
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    throw new PolicySyntaxError('file is not valid UTF-8 text (is it a binary file?)', file, line, column);
  }
}

function readDescription(root: string, infoFile: string, shown: string, diagnostics: Diagnostic[]): string | undefined {
  let text: string | undefined;
  try {
    text = readTreeText(infoFile, { root, maxBytes: FILE_LIMITS.config, label: shown, what: 'policyFragmentInformation.json', missingOk: true });
  } catch (e) {
    if (!(e instanceof FileRefusedError)) throw e;
    diagnostics.push(diagnostic(shown, e.reason));
    return undefined;
  }
  if (text === undefined) return undefined;
  try {
    const info = JSON.parse(text.replace(/^\uFEFF/, '')) as { description?: unknown; properties?: { description?: unknown } };
    const description = info.properties?.description ?? info.description;
    return typeof description === 'string' ? description : undefined;
  } catch (e) {
    const at = /position (\d+)/.exec((e as Error).message);
    const offset = at ? Number(at[1]) : 0;
    const before = text.slice(0, offset);
    diagnostics.push(diagnostic(shown, `not valid JSON: ${(e as Error).message}`, before.split('\n').length, offset - before.lastIndexOf('\n')));
    return undefined;
  }
}

/**
 * Reads every policy of a tree. Files the layout does not place (APIOps keeps API specs, named
 * values and more beside the policies) are ignored; a `policy.xml` in a place ARM has no scope
 * for is reported, since the author surely meant it to deploy.
 */
export async function loadPolicyTree(root: string, options: { label?: string } = {}): Promise<LoadedTree> {
  const diagnostics: Diagnostic[] = [];
  const resources = new Map<string, PolicyResource>();
  const canonical = new Map<string, string>();
  const seen = new Map<string, string>();
  const shownRoot = options.label ?? root;
  let info;
  try {
    info = statSync(root);
  } catch {
    throw new Error(`policies folder "${root}" does not exist`);
  }
  if (!info.isDirectory()) throw new Error(`"${root}" is not a folder; point --policies at the root of a policies tree`);

  for (const path of listFiles(root, shownRoot, diagnostics)) {
    const rel = relative(root, path).split(sep).join('/');
    const shown = join(shownRoot, rel);
    if (!rel.endsWith('.xml')) continue;
    const placement = placementOf(rel.split('/'));
    if (!placement) {
      if (rel.endsWith('policy.xml')) {
        diagnostics.push({
          ...diagnostic(shown, 'policy.xml is not in a place of the APIOps layout, so it would never deploy'),
          severity: 'warning',
        });
      }
      continue;
    }
    const problems = placement.names.map(([kind, name]) => nameProblem(kind, name)).filter((p): p is string => !!p);
    if (problems.length) {
      for (const p of problems) diagnostics.push(diagnostic(shown, `${p} (ARM would reject it; rename the folder)`));
      continue;
    }
    const address = policyAddress(placement.scope);
    const key = addressKey(address);
    const other = seen.get(key);
    if (other) {
      diagnostics.push(diagnostic(shown, `${other} already defines ${address}; ARM names are case-insensitive and "policy fragments/" equals "policyFragments/"`));
      continue;
    }
    seen.set(key, shown);
    let bytes: Buffer;
    try {
      bytes = readTreeFile(path, { root, walked: true, maxBytes: FILE_LIMITS.policy, label: shown, what: 'policy files (APIM accepts policy documents up to 256 KiB)' })!;
    } catch (e) {
      if (!(e instanceof FileRefusedError)) throw e;
      diagnostics.push(diagnostic(shown, e.reason, 1, 1, 'parse'));
      continue;
    }
    const isFragment = placement.scope.kind === 'fragment';
    try {
      const xml = decodeUtf8(bytes, shown);
      const doc = parsePolicyDocument(xml, { file: shown, expect: isFragment ? 'fragment' : 'policies' });
      const resource: PolicyResource = { type: 'policy', address, scope: placement.scope, xml, file: shown };
      if (isFragment) {
        const description = readDescription(root, join(path, '..', FRAGMENT_INFO), join(shown, '..', FRAGMENT_INFO), diagnostics);
        if (description !== undefined) resource.description = description;
      }
      resources.set(key, resource);
      canonical.set(key, canonicalize(doc));
    } catch (e) {
      if (!(e instanceof PolicySyntaxError)) throw e;
      diagnostics.push(diagnostic(e.file, e.reason, e.line, e.column, 'parse'));
    }
  }
  return { state: { resources }, diagnostics, canonical, documents: documentsOf(resources) };
}
