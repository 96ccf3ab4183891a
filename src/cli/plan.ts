import type { Command } from 'commander';
import { Option } from 'commander';
import type { TargetSettings } from '../azure/target.js';
import { loadDesiredTree } from '../desired/load-desired.js';
import { loadPolicyTree, type LoadedTree } from '../desired/load-tree.js';
import type { Plan } from '../model/index.js';
import { blockingProblems, computePlan, hasChanges } from '../plan/compute.js';
import { policiesRootOf } from '../desired/root-guess.js';
import { writePlanFile } from '../ci/plan-file.js';
import { defaultGuardrails, planLive, planScoped } from '../ci/plan-apply.js';
import { renderJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderText } from '../render/text.js';
import { CliError, failOnErrors, printDiagnostics } from './errors.js';
import { guardrailSettings } from '../ci/settings.js';
import { addIdentityOptions, addTargetOptions, connectWithProgress, currentCommit, flagSettings, hasTarget, hasTargetOrEnv, type CliEnvironment, type IdentityFlags } from './target.js';
import { colorWanted } from '../render/color.js';

export type OutputFormat = 'text' | 'markdown' | 'json';

export function renderPlan(plan: Plan, format: OutputFormat, color: boolean): string {
  if (format === 'json') return renderJson(plan);
  if (format === 'markdown') return renderMarkdown(plan);
  return renderText(plan, { color });
}

/** Loads the desired tree (and identity.yaml); stops (nothing planned, nothing written) when it has errors. */
export async function loadDesired(policies: string, environment?: string, tokens: 'required' | 'optional' = 'required'): Promise<LoadedTree> {
  const desired = await loadDesiredTree(policies, { tokens, ...(environment ? { environment } : {}) });
  printDiagnostics(desired.diagnostics.filter((d) => d.severity !== 'error'));
  failOnErrors(desired.diagnostics, `policies tree ${policies}`);
  return desired;
}

/** Plans a policies tree against a live snapshot folder (the layout `extract` writes). */
export async function planAgainstSnapshot(policies: string, snapshot: string): Promise<Plan> {
  // A snapshot folder holds no secret to compare with: the tree's secrets are not needed.
  const desired = await loadDesired(policies, undefined, 'optional');
  const live = await loadPolicyTree(snapshot);
  failOnErrors(live.diagnostics, `live snapshot ${snapshot}`);
  return computePlan(desired, live, { source: { kind: 'snapshot', path: snapshot }, policiesRoot: policiesRootOf(policies, desired.state.resources.size) });
}

/** Plans a policies tree against the live instance the target flags name (only what differs from `base`, when given). */
export async function planAgainstInstance(policies: string, target: TargetSettings & IdentityFlags, env: CliEnvironment, base?: string): Promise<Plan> {
  const desired = await loadDesired(policies, target.environment);
  const baseTree = base ? await loadDesired(base, target.environment) : undefined;
  const { conn, progress } = await connectWithProgress(target, 'read', env);
  try {
    const commit = currentCommit(policies);
    const options = { ...(commit ? { commit } : {}), guardrails: defaultGuardrails(conn, guardrailSettings(flagSettings(target))), policiesPath: policies };
    return baseTree ? await planScoped(conn, desired, baseTree, { ...options, baseLabel: base! }) : await planLive(conn, desired, options);
  } finally {
    progress.finish();
  }
}

interface PlanOptions extends TargetSettings, IdentityFlags {
  policies: string;
  liveSnapshot?: string;
  base?: string;
  format: OutputFormat;
  out?: string;
  detailedExitcode?: boolean;
}

export function registerPlan(program: Command, env: CliEnvironment): void {
  const command = program
    .command('plan')
    .description('Show what apply would change: the policies tree against the live APIM instance (or a live snapshot folder).')
    .requiredOption('--policies <dir>', 'policies tree (APIOps layout)')
    .option('--live-snapshot <dir>', 'plan against a folder in the same layout instead of a live instance')
    .option('--base <dir>', "PR-scoped plan: read and plan only what differs from this tree (the pull request's base checkout)")
    .addOption(new Option('--format <format>', 'output on stdout').choices(['text', 'markdown', 'json']).default('text'))
    .option('--out <file>', 'also write the plan file (JSON) for apply --plan')
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are, 1 on error (a plan with error problems exits 1 with or without it)');
  addIdentityOptions(addTargetOptions(command)).action(async (opts: PlanOptions) => {
    if (opts.liveSnapshot && hasTarget(opts)) throw new CliError('give either --live-snapshot or the Azure target flags, not both', 1);
    if (!opts.liveSnapshot && !hasTargetOrEnv(opts)) {
      throw new CliError(
        'plan needs a live side: the Azure target flags (--subscription-id, --resource-group, --service-name …, or APIM_RESOURCE_GROUP and APIM_SERVICE_NAME) or --live-snapshot <dir>',
        1,
      );
    }
    if (opts.base && opts.liveSnapshot) throw new CliError('--base scopes a plan against a live instance; it does not go with --live-snapshot', 1);
    const plan = opts.liveSnapshot ? await planAgainstSnapshot(opts.policies, opts.liveSnapshot) : await planAgainstInstance(opts.policies, opts, env, opts.base);
    process.stdout.write(renderPlan(plan, opts.format, colorWanted(process.stdout)));
    if (opts.out) {
      await writePlanFile(opts.out, plan);
      if (opts.format !== 'json')
        process.stderr.write(`Plan ${plan.integrity?.slice(0, 16)} written to ${opts.out}; apply exactly it with: apim-policy apply --plan ${opts.out} <the same target flags>\n`);
    }
    // A plan apply would refuse fails here already (Terraform's convention: 1 is an error).
    const errors = blockingProblems(plan);
    if (errors.length) {
      if (opts.format !== 'text')
        process.stderr.write(`error: ${errors.length} error(s) stop this plan: apply would refuse it (first: ${errors[0]!.file}:${errors[0]!.line}:${errors[0]!.column} ${errors[0]!.message})\n`);
      process.exitCode = 1;
    } else if (opts.detailedExitcode && hasChanges(plan)) process.exitCode = 2;
  });
}
