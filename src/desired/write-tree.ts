/**
 * Writes resources as a policies tree in the layout `loadPolicyTree` reads (what `extract` makes),
 * each document formatted as `fmt` would, fragments with their description beside them.
 */
import { constants } from 'node:fs';
import { mkdir, open, readdir, realpath } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { idSegmentsProblem, showId } from '../model/arm-id.js';
import { policyFilePath } from '../model/address.js';
import { kindRow } from '../model/kinds.js';
import type { PolicyResource } from '../model/index.js';
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
 * Writes every resource under `root`; returns the relative paths written, sorted. Every path is
 * checked before anything is written: an id that would climb or split a path, or two resources
 * that would land on one file (names differing only in case on a case-insensitive disk, or
 * "policy fragments/" and "policyFragments/"), stop the write.
 */
export async function writePolicyTree(root: string, resources: Iterable<PolicyResource>): Promise<string[]> {
  const planned: Array<{ r: PolicyResource; rel: string }> = [];
  const byFile = new Map<string, PolicyResource>();
  for (const r of resources) {
    const rel = policyFilePath(r.scope);
    const problem = idSegmentsProblem(rel.split('/'));
    if (problem) throw new Error(`${showId(r.address)} cannot be written as a file: its path ${showId(rel)} is not clean (${problem}); nothing was written`);
    const other = byFile.get(rel.toLowerCase());
    if (other) throw new Error(`${other.address} and ${r.address} would both be written to ${rel}; nothing was written`);
    byFile.set(rel.toLowerCase(), r);
    planned.push({ r, rel });
  }
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  const written: string[] = [];
  for (const { r, rel } of planned) {
    const doc = parsePolicyDocument(r.xml, { file: r.address, expect: r.scope.kind === 'fragment' ? 'fragment' : 'policies' });
    const path = join(root, ...rel.split('/'));
    if (relative(root, path).startsWith('..')) throw new Error(`${rel} is outside ${root}; nothing more was written`);
    await mkdir(join(path, '..'), { recursive: true });
    await writeInside(realRoot, path, formatPolicy(doc));
    written.push(rel);
    if (r.scope.kind === 'fragment' && r.description) {
      const infoFile = kindRow('fragment').infoFile!;
      const info = join(path, '..', infoFile);
      await writeInside(realRoot, info, JSON.stringify({ properties: { description: r.description } }, null, 2) + '\n');
      written.push(`${rel.slice(0, rel.lastIndexOf('/'))}/${infoFile}`);
    }
  }
  return written.sort();
}

/** Writes one file of a tree at `root` as writePolicyTree does: not through a symbolic link, not outside `root`. */
export async function writeInsideTree(root: string, path: string, text: string): Promise<void> {
  await writeInside(await realpath(root), path, text);
}
