/**
 * The desired side of a plan: the policies tree and, when it has them, its named values and
 * backends (with APIOps's `configuration.<environment>.yaml` overrides and the `{#TOKEN#}` values
 * from the environment), its identity.yaml with the chosen environment's variables and its lint
 * configuration. Problems of all are diagnostics of the one tree.
 */
import { addressKey } from '../model/address.js';
import { applyConfiguration } from './apiops-configuration.js';
import { loadIdentityManifest } from './identity-manifest.js';
import { checkEntity, loadEntities, resolveEntitySecrets, type TextSpan } from './load-entities.js';
import { loadLintConfig } from './lint-config.js';
import { loadPolicyTree, type LoadedTree } from './load-tree.js';
import { misplacedTreeProblem } from './root-guess.js';

export interface LoadDesiredOptions {
  environment?: string;
  /** Where `{#TOKEN#}` values come from (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Whether a `{#TOKEN#}` whose variable is not set is an error (`required`, the default: plan
   * and apply against an instance need every value) or not reported (`optional`: lint, a fork's
   * pull request and a plan against a snapshot folder use no secret, and a fork gets none).
   */
  tokens?: 'required' | 'optional';
}

export async function loadDesiredTree(root: string, options: LoadDesiredOptions = {}): Promise<LoadedTree> {
  const tree = await loadPolicyTree(root);
  const { entities, sources } = loadEntities(root, tree.diagnostics);
  const overrides = options.environment ? applyConfiguration(root, options.environment, entities.resources, tree.diagnostics) : new Map<string, TextSpan>();
  const spansOf = (key: string): TextSpan[] => [sources.get(key)!, ...(overrides.has(key) ? [overrides.get(key)!] : [])];
  for (const [key, resource] of entities.resources) checkEntity(resource, spansOf(key), tree.diagnostics);
  tree.secrets = resolveEntitySecrets(entities.resources.values(), (r) => spansOf(addressKey(r.address)), options.env ?? process.env, tree.diagnostics, options.tokens ?? 'required');
  tree.entities = entities;
  const misplaced = misplacedTreeProblem(root, tree.state.resources.size);
  if (misplaced) tree.diagnostics.push(misplaced);
  const { manifest, diagnostics } = loadIdentityManifest(root, options.environment ? { environment: options.environment } : {});
  tree.diagnostics.push(...diagnostics);
  if (manifest) tree.identity = manifest;
  tree.lintConfig = loadLintConfig(root, root, tree.diagnostics);
  return tree;
}
