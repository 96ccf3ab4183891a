/**
 * The wrong folder never deletes an instance. `--policies` (input `policies-path`) pointed one
 * folder too high or too low finds no policy where the layout places one; planned as it is, the
 * tree says "delete everything". Both cases are errors that name the likely root.
 */
import { readdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Diagnostic } from '../model/index.js';
import { didYouMean, rootProblem, WHAT_A_ROOT_HOLDS, type PoliciesRoot } from '../model/policies-root.js';
import { placementOf } from './load-tree.js';
/** A tree with a lot of files is walked only this far; the guess needs a few files, not all. */
const MAX_ENTRIES = 200_000;

/** Relative paths (split on "/") of every policy.xml under root, not following symlinks, skipping dot folders. */
function policyFiles(root: string): string[][] {
  const out: string[][] = [];
  let seen = 0;
  const walk = (dir: string, rel: string[]): void => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (++seen > MAX_ENTRIES) return;
      if (e.name.startsWith('.')) continue;
      if (e.isDirectory()) walk(join(dir, e.name), [...rel, e.name]);
      else if (e.isFile() && e.name === 'policy.xml') out.push([...rel, e.name]);
    }
  };
  walk(root, []);
  return out;
}

/**
 * The folder that would place the most of these files: a subfolder of root (pointed too high), or
 * a parent (pointed too low). Undefined when none places any.
 */
export function guessPolicyRoot(root: string, files: string[][] = policyFiles(root)): string | undefined {
  const counts = new Map<string, { path: string; n: number; depth: number }>();
  const vote = (path: string, depth: number) => {
    const entry = counts.get(path) ?? { path, n: 0, depth };
    entry.n++;
    counts.set(path, entry);
  };
  for (const parts of files) {
    // Too high: the root is some folders down.
    for (let k = 1; k < parts.length && k <= 4; k++) if (placementOf(parts.slice(k))) vote(join(root, ...parts.slice(0, k)), k);
  }
  // Too low: the root is a parent, and root's own name (apis, products, …) is part of the path.
  let parent = resolve(root);
  const names: string[] = [];
  for (let up = 1; up <= 3; up++) {
    names.unshift(basename(parent));
    parent = resolve(parent, '..');
    const shown = join(root, ...Array<string>(up).fill('..'));
    for (const parts of files) if (placementOf([...names, ...parts])) vote(shown, up);
  }
  const best = [...counts.values()].sort((a, b) => b.n - a.n || a.depth - b.depth || a.path.localeCompare(b.path))[0];
  return best?.path;
}

/**
 * Policy files are in the tree, but none where the layout places one (every file is at
 * `<root>/policies/apis/…`, say): nothing would deploy and a plan would delete every live policy.
 * Checked when the tree is loaded, so nothing is planned and no Azure call is made.
 */
export function misplacedTreeProblem(root: string, deployable: number): Diagnostic | undefined {
  if (deployable > 0) return undefined;
  const files = policyFiles(root);
  // A placed file that did not load (a parse error) is reported as such: the root is right.
  if (files.length === 0 || files.some((parts) => placementOf(parts))) return undefined;
  const example = join(root, ...files[0]!);
  return rootProblem(
    root,
    `no policy.xml in ${root} is where the APIOps layout places one (${files.length} found elsewhere, e.g. ${example}), so nothing would deploy and a plan would delete every live policy. ` +
      `Point --policies (input policies-path) at ${WHAT_A_ROOT_HOLDS}${didYouMean(guessPolicyRoot(root, files))}`,
  );
}

/** What the plan's empty-tree guard needs to name the folder: the folder, and the guess when the tree has nothing to deploy. */
export function policiesRootOf(root: string, deployable: number): PoliciesRoot {
  const guess = deployable === 0 ? guessPolicyRoot(root) : undefined;
  return { path: root, ...(guess !== undefined ? { guess } : {}) };
}
