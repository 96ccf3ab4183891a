import type { Command } from 'commander';
import { loadPolicyTree } from '../desired/load-tree.js';
import { addressKey, policyFilePath } from '../model/address.js';
import { closestName } from '../model/closest-name.js';
import type { PolicyResource } from '../model/index.js';
import type { TargetSettings } from '../azure/target.js';
import { liveReaderOf } from '../azure/connection.js';
import { EffectiveError, effectivePolicy, parseEffectiveAddress, readEffectiveLive, type EffectiveTarget, type Lookup } from '../plan/effective.js';
import { CliError, failOnErrors } from './errors.js';
import { addTargetOptions, connectWithProgress, hasTarget, hasTargetOrEnv, type CliEnvironment } from './target.js';

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

interface EffectiveOptions extends TargetSettings {
  policies?: string;
  live?: boolean;
  product?: string;
}

/** The documents of the target's levels and fragments from the tree, with a warning for a level the tree lacks. */
async function treeLookup(policies: string, target: EffectiveTarget): Promise<Lookup> {
  const tree = await loadPolicyTree(policies);
  failOnErrors(tree.diagnostics, policies, 2);
  for (const w of missingLevels(target, [...tree.state.resources.values()])) process.stderr.write(`warning: ${w}\n`);
  return (a) => tree.documents.get(addressKey(a));
}

/** The same documents read from the instance the target flags name (only the chain and its fragments). */
async function liveLookup(opts: EffectiveOptions, target: EffectiveTarget, env: CliEnvironment): Promise<Lookup> {
  const { conn, progress } = await connectWithProgress(opts, 'read', env);
  try {
    return await readEffectiveLive(liveReaderOf(conn), target, conn.target.serviceName);
  } finally {
    progress.finish();
  }
}

/** `apim-policy effective`: the policy the gateway runs for an API or an operation, composed from the tree or from the live instance. */
export function registerEffective(program: Command, env: CliEnvironment): void {
  const command = program
    .command('effective')
    .description(
      'Print the policy the gateway runs for an API or an operation: global → (product) → API → operation, each <base /> replaced by the enclosing level and each include-fragment inlined, every part marked with where it came from. From the policies tree, or with --live from the instance the target flags name.',
    )
    .argument('<address>', 'apis/<api> or apis/<api>/operations/<operation> (or their policy addresses; under workspaces/<workspace>/ for a workspace)')
    .option('--policies <dir>', 'policies folder (APIOps layout) to compose from')
    .option('--live', 'compose what the live instance runs instead (the Azure target flags, or APIM_RESOURCE_GROUP and APIM_SERVICE_NAME): reads only the levels and the fragments they include')
    .option('--product <id>', 'compose the product policy between global and the API (a call through that product)');
  addTargetOptions(command).action(async (address: string, opts: EffectiveOptions) => {
    if (opts.live && opts.policies !== undefined) throw new CliError('give either --policies <dir> (compose the tree) or --live (compose the instance), not both', 2);
    if (!opts.live && opts.policies === undefined) throw new CliError('effective composes from --policies <dir> or, with --live and the Azure target flags, from the instance; give one', 2);
    if (!opts.live && hasTarget(opts)) throw new CliError('the Azure target flags go with --live (compose what the instance runs); without --live effective reads only --policies', 2);
    if (opts.live && !hasTargetOrEnv(opts))
      throw new CliError('--live needs the Azure target flags (--subscription-id, --resource-group, --service-name …, or APIM_RESOURCE_GROUP and APIM_SERVICE_NAME)', 2);
    try {
      const target = { ...parseEffectiveAddress(address), ...(opts.product !== undefined ? { productId: opts.product } : {}) };
      const lookup = opts.live ? await liveLookup(opts, target, env) : await treeLookup(opts.policies!, target);
      process.stdout.write(effectivePolicy(target, lookup));
    } catch (e) {
      if (e instanceof EffectiveError) throw new CliError(e.message, 2);
      throw e;
    }
  });
}
