/**
 * Writes resources as a policies tree in the layout `loadPolicyTree` reads (what `extract` makes),
 * each document formatted as `fmt` would, fragments with their description beside them, named
 * values and backends as APIOps's information files (a secret's value never: a token in its place).
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { idSegmentsProblem, showId } from '../model/arm-id.js';
import { policyFilePath } from '../model/address.js';
import { formatTreePath, kindRow } from '../model/kinds.js';
import type { EntityResource } from '../model/entities.js';
import type { PolicyResource } from '../model/index.js';
import { tokenForId, tokenText } from '../model/tokens.js';
import { formatPolicy, parsePolicyDocument } from '../policy-xml/index.js';

export async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.')).length === 0;
  } catch {
    return true;
  }
}

/** A file of the tree is replaced, never written through a symbolic link, and only below `realRoot`. */
async function writeInside(realRoot: string, path: string, text: string): Promise<void> {
  const folder = await realpath(join(path, '..'));
  if (folder !== realRoot && !folder.startsWith(realRoot + sep)) throw new Error(`${path} would be written outside ${realRoot} (a folder on its way is a symbolic link); nothing more was written`);
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW, 0o644).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'ELOOP' ? new Error(`${path} is a symbolic link; extract never writes through one — remove it, or extract into an empty folder`) : e;
  });
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

/**
 * Properties ARM fills and a file does not set: `provisioningState` (readOnly in the 2024-05-01
 * spec) and a Key Vault reference's `lastStatus` (the last refresh).
 */
function fileProperties(properties: Record<string, unknown>): Record<string, unknown> {
  const { provisioningState: _state, ...rest } = properties;
  const kv = rest.keyVault;
  if (kv && typeof kv === 'object' && !Array.isArray(kv)) {
    const { lastStatus: _status, ...keyVault } = kv as Record<string, unknown>;
    rest.keyVault = keyVault;
  }
  return rest;
}

/**
 * The information file of a named value or backend: its path, its text (`{"properties": {…}}`,
 * 2 spaces, a newline at the end) and, for a secret named value that is not a Key Vault reference,
 * the token that stands for its value (ARM never returns the value in a GET; it is not fetched).
 */
export function entityFile(e: EntityResource): { rel: string; text: string; token?: string } {
  const rel = formatTreePath({ kind: e.kind, params: { [e.kind === 'namedValue' ? 'namedValueId' : 'backendId']: e.id }, ...(e.workspace !== undefined ? { workspace: e.workspace } : {}) })!;
  const properties = fileProperties(e.properties);
  let token: string | undefined;
  if (e.kind === 'namedValue' && properties.secret === true && (properties.keyVault === undefined || properties.keyVault === null)) {
    token = tokenForId(e.id);
    properties.value = tokenText(token);
  }
  return { rel, text: JSON.stringify({ properties }, null, 2) + '\n', ...(token ? { token } : {}) };
}

/**
 * Writes every resource under `root`; returns the relative paths written, sorted. Every path is
 * checked before anything is written: an id that would climb or split a path, or two resources
 * that would land on one file (names differing only in case on a case-insensitive disk, or
 * "policy fragments/" and "policyFragments/"), stop the write.
 */
export async function writePolicyTree(root: string, resources: Iterable<PolicyResource>, entities: Iterable<EntityResource> = []): Promise<string[]> {
  const planned: Array<{ address: string; rel: string; text: () => string; info?: string }> = [];
  const byFile = new Map<string, string>();
  const plan = (address: string, rel: string, text: () => string, info?: string) => {
    const problem = idSegmentsProblem(rel.split('/'));
    if (problem) throw new Error(`${showId(address)} cannot be written as a file: its path ${showId(rel)} is not clean (${problem}); nothing was written`);
    const other = byFile.get(rel.toLowerCase());
    if (other) throw new Error(`${other} and ${address} would both be written to ${rel}; nothing was written`);
    byFile.set(rel.toLowerCase(), address);
    planned.push({ address, rel, text, ...(info !== undefined ? { info } : {}) });
  };
  for (const r of resources) {
    const doc = () => formatPolicy(parsePolicyDocument(r.xml, { file: r.address, expect: r.scope.kind === 'fragment' ? 'fragment' : 'policies' }));
    plan(r.address, policyFilePath(r.scope), doc, r.scope.kind === 'fragment' && r.description ? JSON.stringify({ properties: { description: r.description } }, null, 2) + '\n' : undefined);
  }
  for (const e of entities) {
    const { rel, text } = entityFile(e);
    plan(e.address, rel, () => text);
  }
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  const written: string[] = [];
  for (const { rel, text, info } of planned) {
    const path = join(root, ...rel.split('/'));
    if (relative(root, path).startsWith('..')) throw new Error(`${rel} is outside ${root}; nothing more was written`);
    await mkdir(join(path, '..'), { recursive: true });
    await writeInside(realRoot, path, text());
    written.push(rel);
    if (info !== undefined) {
      const infoFile = kindRow('fragment').infoFile!;
      await writeInside(realRoot, join(path, '..', infoFile), info);
      written.push(`${rel.slice(0, rel.lastIndexOf('/'))}/${infoFile}`);
    }
  }
  return written.sort();
}

/** Writes one file of a tree at `root` as writePolicyTree does: not through a symbolic link, not outside `root`. */
export async function writeInsideTree(root: string, path: string, text: string): Promise<void> {
  await writeInside(await realpath(root), path, text);
}
