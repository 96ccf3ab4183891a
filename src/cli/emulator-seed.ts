/**
 * `--seed DIR`: the product's loader reads a policies tree (and its identity.yaml) into the
 * `LiveSeed` the emulator starts with, so the emulator never reads a tree itself. Named values and
 * backends come from APIOps' own files when the tree has them
 * (`[workspaces/<w>/]named values/<name>/namedValueInformation.json`, `[workspaces/<w>/]backends/<name>/backendInformation.json`),
 * so reference checks have something to find. The APIs, operations, products and workspaces the
 * instance has are its folders (seedEntities). Role assignments get the names this tool gives them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadPolicyTree } from '../desired/load-tree.js';
import { BUILT_IN_ROLES } from '../emulator/arm-rbac.js';
import { seedState } from '../emulator/seed.js';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../emulator/server.js';
import type { EmulatorState } from '../emulator/types.js';
import { loadIdentityManifest } from '../desired/identity-manifest.js';
import type { Diagnostic } from '../model/index.js';
import type { LiveSeed } from '../model/seed.js';
import { roleAssignmentName } from '../plan/identity.js';
import { resolveTokensDeep, tokenText, tokensOf } from '../model/tokens.js';

/**
 * APIOps information files of one collection: their `properties`, by folder name, with each
 * `{#TOKEN#}` replaced by the environment variable it names, as a deployment would store it (a
 * token left as written would seed the instance with the placeholder, and every plan would then
 * call the secret changed). A variable that is not set stops the seed, naming it and the file.
 */
function apiopsEntities(dir: string, folder: string, file: string, env: Readonly<Record<string, string | undefined>>, used: Record<string, string>, workspace?: string): LiveSeed['namedValues'] {
  let names: string[];
  try {
    names = readdirSync(join(dir, folder));
  } catch {
    return [];
  }
  return names.map((name) => {
    const path = join(dir, folder, name, file);
    let properties: Record<string, unknown>;
    try {
      properties = (JSON.parse(readFileSync(path, 'utf8')) as { properties?: Record<string, unknown> }).properties ?? {};
    } catch (e) {
      throw new Error(`cannot seed from ${path}: ${(e as Error).message}`);
    }
    const missing: string[] = [];
    const resolved = resolveTokensDeep(properties, env, missing);
    for (const t of tokensOf(properties)) if (env[t] !== undefined) used[t] = env[t];
    if (missing.length) {
      throw new Error(
        `cannot seed from ${path}: ${missing.map(tokenText).join(', ')} ${missing.length === 1 ? 'needs the environment variable' : 'need the environment variables'} ` +
          `${missing.join(', ')}; set ${missing.length === 1 ? 'it' : 'them'} (any value: it is what the emulator's instance will hold) and start it again`,
      );
    }
    return { name, ...(workspace !== undefined ? { workspace } : {}), properties: resolved };
  });
}

/** Folder names under `dir/folder` (none when it is not a folder). */
function folders(dir: string, ...folder: string[]): string[] {
  try {
    return readdirSync(join(dir, ...folder), { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

/** `properties.displayName` of an APIOps information file (`apiInformation.json`, `productInformation.json`), when there is one. */
function displayNameIn(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const d = (JSON.parse(text) as { properties?: { displayName?: unknown } }).properties?.displayName;
    return typeof d === 'string' ? d : undefined;
  } catch (e) {
    throw new Error(`cannot seed from ${file}: ${(e as Error).message}`);
  }
}

/**
 * The APIs, operations, products and workspaces a seed tree declares: every `apis/<a>/`,
 * `apis/<a>/operations/<o>/`, `products/<p>/` and `workspaces/<w>/` folder (of the service and of
 * each workspace), with the display name of its APIOps information file when it has one. A folder
 * that holds a policy thus declares that policy's parent.
 */
export function seedEntities(dir: string): Pick<LiveSeed, 'apis' | 'operations' | 'products' | 'workspaces'> {
  const out: Pick<LiveSeed, 'apis' | 'operations' | 'products' | 'workspaces'> = { apis: [], operations: [], products: [], workspaces: [] };
  const entity = (address: string, file: string) => {
    const displayName = displayNameIn(file);
    return { address, ...(displayName !== undefined ? { displayName } : {}) };
  };
  const scope = (root: string, prefix: string) => {
    for (const a of folders(root, 'apis')) {
      out.apis.push(entity(`${prefix}apis/${a}`, join(root, 'apis', a, 'apiInformation.json')));
      for (const o of folders(root, 'apis', a, 'operations')) out.operations.push({ address: `${prefix}apis/${a}/operations/${o}` });
    }
    for (const p of folders(root, 'products')) out.products.push(entity(`${prefix}products/${p}`, join(root, 'products', p, 'productInformation.json')));
  };
  scope(dir, '');
  for (const w of folders(dir, 'workspaces')) {
    out.workspaces.push(entity(`workspaces/${w}`, join(dir, 'workspaces', w, 'workspaceInformation.json')));
    scope(join(dir, 'workspaces', w), `workspaces/${w}/`);
  }
  return out;
}

/**
 * Loads `dir` into a seed. Throws when the tree has errors (the emulator should not start on a
 * tree that cannot be deployed); returns the warnings too, and the variables its `{#TOKEN#}`s took
 * from `env` (name → value: what a plan of the same tree needs to match the seeded instance).
 */
export async function loadLiveSeed(dir: string, env: Readonly<Record<string, string | undefined>> = process.env): Promise<{ seed: LiveSeed; warnings: Diagnostic[]; tokens: Record<string, string> }> {
  const tree = await loadPolicyTree(dir);
  const identity = loadIdentityManifest(dir);
  tree.diagnostics.push(...identity.diagnostics);
  const errors = tree.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) {
    throw new Error(`cannot seed from ${dir}:\n` + errors.map((d) => `  ${d.file}:${d.line}:${d.column}: ${d.message}`).join('\n'));
  }
  const tokens: Record<string, string> = {};
  // One collection of the service and of each workspace.
  const collection = (folder: string, file: string) => [
    ...apiopsEntities(dir, folder, file, env, tokens),
    ...folders(dir, 'workspaces').flatMap((w) => apiopsEntities(join(dir, 'workspaces', w), folder, file, env, tokens, w)),
  ];
  const seed: LiveSeed = {
    policies: [...tree.state.resources.values()].map((r) => ({ address: r.address, xml: r.xml, ...(r.description !== undefined ? { description: r.description } : {}) })),
    ...seedEntities(dir),
    namedValues: collection('named values', 'namedValueInformation.json'),
    backends: collection('backends', 'backendInformation.json'),
  };
  const m = identity.manifest;
  if (m) {
    const roleGuid = (role: string, guid?: string) => guid ?? Object.entries(BUILT_IN_ROLES).find(([n]) => n.toLowerCase() === role.toLowerCase())?.[1];
    seed.identity = {
      systemAssigned: m.systemAssigned ?? false,
      userAssigned: m.userAssigned.map((u) => u.resourceId),
      roleAssignments: m.roleAssignments.map((r) => {
        const guid = roleGuid(r.role, r.roleDefinitionGuid);
        if (!guid) throw new Error(`cannot seed from ${m.file}:${r.at.line}: the emulator knows no role "${r.role}"`);
        const ua = m.userAssigned.find((u) => u.alias.toLowerCase() === r.identity.toLowerCase());
        return { identity: ua ? ua.resourceId : 'system', scope: r.scope, roleDefinitionGuid: guid };
      }),
      assignmentName: roleAssignmentName,
    };
  }
  return { seed, warnings: tree.diagnostics.filter((d) => d.severity !== 'error'), tokens };
}

/** Loads `dir` and stores it in `state` (tests that drive the route handlers without a server). */
export async function seedFromTree(state: EmulatorState, dir: string): Promise<{ policies: number; warnings: Diagnostic[] }> {
  const { seed, warnings } = await loadLiveSeed(dir);
  return { ...seedState(state, seed), warnings };
}

/** `startEmulator`, seeded from the tree at `seedDir` when one is given. */
export async function startSeededEmulator(options: Omit<EmulatorOptions, 'seed'> & { seedDir?: string } = {}): Promise<RunningEmulator> {
  const { seedDir, ...rest } = options;
  return startEmulator({ ...rest, ...(seedDir ? { seed: (await loadLiveSeed(seedDir)).seed } : {}) });
}
