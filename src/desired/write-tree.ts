/**
 * Writes resources as a policies tree in the layout `loadPolicyTree` reads (what `extract` makes),
 * each document formatted as `fmt` would, fragments with their description beside them.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { PolicyResource, PolicyScope } from '../model/index.js';
import { formatPolicy, parsePolicyDocument } from '../policy-xml/index.js';

/** The file of a scope's policy, relative to the tree's root ("/"-separated). */
export function policyFilePath(scope: PolicyScope): string {
  const ws = scope.workspace ? `workspaces/${scope.workspace}/` : '';
  switch (scope.kind) {
    case 'global':
      return `${ws}policy.xml`;
    case 'product':
      return `${ws}products/${scope.productId}/policy.xml`;
    case 'api':
      return `${ws}apis/${scope.apiId}/policy.xml`;
    case 'operation':
      return `${ws}apis/${scope.apiId}/operations/${scope.operationId}/policy.xml`;
    case 'fragment':
      return `${ws}policy fragments/${scope.fragmentId}/policy.xml`;
  }
}

export async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await readdir(dir)).filter((n) => !n.startsWith('.')).length === 0;
  } catch {
    return true;
  }
}

/** Writes every resource under `root`; returns the relative paths written, sorted. */
export async function writePolicyTree(root: string, resources: Iterable<PolicyResource>): Promise<string[]> {
  const written: string[] = [];
  for (const r of resources) {
    const rel = policyFilePath(r.scope);
    const doc = parsePolicyDocument(r.xml, { file: r.address, expect: r.scope.kind === 'fragment' ? 'fragment' : 'policies' });
    const path = join(root, ...rel.split('/'));
    await mkdir(join(path, '..'), { recursive: true });
    await writeFile(path, formatPolicy(doc));
    written.push(rel);
    if (r.scope.kind === 'fragment' && r.description) {
      const info = join(path, '..', 'policyFragmentInformation.json');
      await writeFile(info, JSON.stringify({ properties: { description: r.description } }, null, 2) + '\n');
      written.push(rel.replace(/policy\.xml$/, 'policyFragmentInformation.json'));
    }
  }
  return written.sort();
}
