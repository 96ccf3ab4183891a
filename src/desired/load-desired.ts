/**
 * The desired side of a plan: the policies tree and, when it has them, its identity.yaml with the
 * chosen environment's variables and its lint configuration. Problems of all are diagnostics of
 * the one tree.
 */
import { loadIdentityManifest } from './identity-manifest.js';
import { loadLintConfig } from './lint-config.js';
import { loadPolicyTree, type LoadedTree } from './load-tree.js';
import { misplacedTreeProblem } from './root-guess.js';

export async function loadDesiredTree(root: string, options: { environment?: string } = {}): Promise<LoadedTree> {
  const tree = await loadPolicyTree(root);
  const misplaced = misplacedTreeProblem(root, tree.state.resources.size);
  if (misplaced) tree.diagnostics.push(misplaced);
  const { manifest, diagnostics } = loadIdentityManifest(root, options.environment ? { environment: options.environment } : {});
  tree.diagnostics.push(...diagnostics);
  if (manifest) tree.identity = manifest;
  tree.lintConfig = loadLintConfig(root, root, tree.diagnostics);
  return tree;
}
