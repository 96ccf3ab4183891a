import type { Command } from 'commander';
import { Option } from 'commander';
import { loadPolicyTree } from '../desired/load-tree.js';
import type { Plan } from '../model/index.js';
import { computePlan, hasChanges } from '../plan/compute.js';
import { writePlanFile } from '../plan/plan-file.js';
import { renderJson } from '../render/json.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderText } from '../render/text.js';
import { CliError, failOnErrors, printDiagnostics } from './errors.js';

export type OutputFormat = 'text' | 'markdown' | 'json';

export function renderPlan(plan: Plan, format: OutputFormat, color: boolean): string {
  if (format === 'json') return renderJson(plan);
  if (format === 'markdown') return renderMarkdown(plan);
  return renderText(plan, { color });
}

/** Plans a policies tree against a live snapshot folder (the layout `extract` writes). */
export async function planAgainstSnapshot(policies: string, snapshot: string): Promise<Plan> {
  const desired = await loadPolicyTree(policies);
  const live = await loadPolicyTree(snapshot);
  printDiagnostics(desired.diagnostics.filter((d) => d.severity !== 'error'));
  failOnErrors(desired.diagnostics, `policies tree ${policies}`);
  failOnErrors(live.diagnostics, `live snapshot ${snapshot}`);
  return computePlan(desired, live, { source: { kind: 'snapshot', path: snapshot } });
}

export function registerPlan(program: Command): void {
  program
    .command('plan')
    .description('Show what apply would change: the policies tree against live APIM (or a live snapshot folder).')
    .requiredOption('--policies <dir>', 'policies tree (APIOps layout)')
    .option('--live-snapshot <dir>', 'plan against a folder in the same layout instead of a live instance')
    .addOption(new Option('--format <format>', 'output on stdout').choices(['text', 'markdown', 'json']).default('text'))
    .option('--out <file>', 'also write the plan file (JSON) for apply --plan')
    .option('--detailed-exitcode', 'exit 0 when there are no changes, 2 when there are, 1 on error')
    .action(async (opts: { policies: string; liveSnapshot?: string; format: OutputFormat; out?: string; detailedExitcode?: boolean }) => {
      if (!opts.liveSnapshot) {
        throw new CliError('plan needs --live-snapshot <dir> (planning against a live instance comes with the Azure target flags)', 1);
      }
      const plan = await planAgainstSnapshot(opts.policies, opts.liveSnapshot);
      process.stdout.write(renderPlan(plan, opts.format, process.stdout.isTTY === true));
      if (opts.out) {
        await writePlanFile(opts.out, plan);
        if (opts.format !== 'json') process.stderr.write(`Plan written to ${opts.out}\n`);
      }
      if (opts.detailedExitcode && hasChanges(plan)) process.exitCode = 2;
    });
}

