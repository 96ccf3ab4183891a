import type { Command } from 'commander';
import { loadPolicyTree } from '../desired/load-tree.js';
import { addressKey, policyFilePath } from '../model/address.js';
import { closestName } from '../model/closest-name.js';
import type { PolicyResource } from '../model/index.js';
import { EffectiveError, effectivePolicy, parseEffectiveAddress, type EffectiveTarget } from '../plan/effective.js';
import { CliError, failOnErrors } from './errors.js';

/**
 * A product or an API the tree has no policy for (nor, for an API, any of its operations): it counts
 * as <base /> only, which is right for a real one with no policy and wrong for a misspelt one.
 */
function missingLevels(target: EffectiveTarget, resources: PolicyResource[]): string[] {
  const out: string[] = [];
  const ws = target.workspace !== undefined ? { workspace: target.workspace } : {};
  const here = resources.filter((r) => r.scope.workspace === target.workspace);
  const check = (kind: 'api' | 'product', name: string, names: string[], file: string) => {
    if (names.some((n) => n.toLowerCase() === name.toLowerCase())) return;
    const near = closestName(name, names, { charactersPerSlip: 4 });
    out.push(`the tree has no policy for ${kind} "${name}" (${file}): it counts as <base /> only${near ? `; did you mean "${near}"?` : ''}`);
  };
  const apis = here.flatMap((r) => (r.scope.kind === 'api' || r.scope.kind === 'operation' ? [r.scope.apiId] : []));
  check('api', target.apiId, apis, policyFilePath({ kind: 'api', apiId: target.apiId, ...ws }));
  if (target.productId !== undefined) {
    const products = here.flatMap((r) => (r.scope.kind === 'product' ? [r.scope.productId] : []));
    check('product', target.productId, products, policyFilePath({ kind: 'product', productId: target.productId, ...ws }));
  }
  return out;
}

/** `apim-policy effective`: the policy the gateway runs for an API or an operation, composed from the tree. */
export function registerEffective(program: Command): void {
  program
    .command('effective')
    .description(
      'Print the policy the gateway runs for an API or an operation: global → (product) → API → operation, each <base /> replaced by the enclosing level and each include-fragment inlined, every part marked with where it came from.',
    )
    .argument('<address>', 'apis/<api> or apis/<api>/operations/<operation> (or their policy addresses; under workspaces/<workspace>/ for a workspace)')
    .requiredOption('--policies <dir>', 'policies folder (APIOps layout)')
    .option('--product <id>', 'compose the product policy between global and the API (a call through that product)')
    .action(async (address: string, opts: { policies: string; product?: string }) => {
      try {
        const target = { ...parseEffectiveAddress(address), ...(opts.product !== undefined ? { productId: opts.product } : {}) };
        const tree = await loadPolicyTree(opts.policies);
        failOnErrors(tree.diagnostics, opts.policies, 2);
        for (const w of missingLevels(target, [...tree.state.resources.values()])) process.stderr.write(`warning: ${w}\n`);
        process.stdout.write(effectivePolicy(target, (a) => tree.documents.get(addressKey(a))));
      } catch (e) {
        if (e instanceof EffectiveError) throw new CliError(e.message, 2);
        throw e;
      }
    });
}
