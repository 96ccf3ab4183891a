import type { Command } from 'commander';
import type { TargetSettings } from '../azure/target.js';
import { applyEventLine, snapshotFilePath } from '../ci/apply-log.js';
import { guardrailSettings, parseMaxDeletes, SettingError } from '../ci/settings.js';
import type { Plan } from '../model/index.js';
import { DEFAULT_MAX_DELETES } from '../plan/apply.js';
import { blockingProblems, hasChanges } from '../plan/compute.js';
import { readPlanFile, savedPlanLine } from '../ci/plan-file.js';
import { applyLive, defaultGuardrails, planLive } from '../ci/plan-apply.js';
import { signalExitCode, whileInterruptible } from '../ci/interrupt.js';
import { renderApplyText } from '../render/apply.js';
import { renderText } from '../render/text.js';
import { CliError } from './errors.js';
import { loadDesired } from './plan.js';
import { addIdentityOptions, addTargetOptions, connectWithProgress, currentCommit, flagSettings, type CliEnvironment, type IdentityFlags } from './target.js';
import { colorWanted } from '../render/color.js';

interface ApplyOptions extends TargetSettings, IdentityFlags {
  plan?: string;
  policies?: string;
  allowDeletes?: boolean;
  maxDeletes?: number;
  snapshotFile?: string;
}

/** `--max-deletes N`: a whole number, -1 for no limit (ci/settings.ts reads the action's input the same way). */
function maxDeletesFlag(value: string): number {
  try {
    return parseMaxDeletes(value, '--max-deletes');
  } catch (e) {
    throw e instanceof SettingError ? new CliError(e.message, 1) : e;
  }
}

export function registerApply(program: Command, env: CliEnvironment): void {
  const command = program
    .command('apply')
    .description('Apply a saved plan exactly (--plan), or plan the tree and apply that (--policies). Writes use If-Match; a failure restores what the run wrote.')
    .option('--plan <file>', 'the plan file written by plan --out; refused if live changed since')
    .option('--policies <dir>', 'plan this tree now and apply it')
    .option('--allow-deletes', 'also delete live policies that are not in the tree')
    .option('--max-deletes <n>', `refuse a plan that deletes more than n resources, even with --allow-deletes (-1: no limit)`, maxDeletesFlag, DEFAULT_MAX_DELETES)
    .option('--snapshot-file <file>', 'where to keep the pre-apply snapshot, a new file (default: in RUNNER_TEMP, or in a new private folder in the temp folder); restore --snapshot puts it back');
  addIdentityOptions(addTargetOptions(command), { apply: true }).action(async (opts: ApplyOptions) => {
    if (!!opts.plan === !!opts.policies) throw new CliError('apply needs exactly one of --plan <file> or --policies <dir>', 1);
    // Read and check every input before connecting: nothing is written when input is invalid.
    const saved: Plan | undefined = opts.plan ? await readPlanFile(opts.plan) : undefined;
    const desired = opts.policies ? await loadDesired(opts.policies, opts.environment) : undefined;
    const { conn, progress } = await connectWithProgress(opts, 'ARM calls', env);
    const guardrails = defaultGuardrails(conn, guardrailSettings(flagSettings(opts)));
    let plan: Plan;
    try {
      if (saved) plan = saved;
      else {
        const commit = currentCommit(opts.policies!);
        plan = await planLive(conn, desired!, { ...(commit ? { commit } : {}), guardrails, policiesPath: opts.policies! });
        progress.finish();
        process.stdout.write(renderText(plan, { color: colorWanted(process.stdout) }));
      }
      // A plan with errors goes on to apply, which refuses it (exit 1), even with nothing to change.
      if (!hasChanges(plan) && blockingProblems(plan).length === 0) {
        process.stdout.write('Nothing to apply.\n');
        return;
      }
      const snapshotFile = opts.snapshotFile ?? (await snapshotFilePath(conn.target.serviceName, process.env.RUNNER_TEMP));
      if (saved) process.stdout.write(`${savedPlanLine(saved)}\n`);
      process.stdout.write(`Applying to ${conn.source.serviceId}\n`);
      let written: string | undefined;
      const result = await whileInterruptible({ say: (line) => process.stderr.write(`\n${line}\n`), snapshotFile: () => written }, (signal) =>
        applyLive(conn, plan, {
          allowDeletes: opts.allowDeletes === true,
          ...(opts.maxDeletes !== undefined ? { maxDeletes: opts.maxDeletes } : {}),
          allowDestructiveIdentityChanges: opts.allowDestructiveIdentityChanges === true,
          guardrails,
          snapshotFile,
          signal,
          onEvent: (e) => {
            if (e.type === 'snapshot') written = e.file;
            const line = applyEventLine(e, 'terminal');
            if (line) process.stdout.write(line + '\n');
          },
        }),
      );
      progress.finish();
      process.stdout.write(renderApplyText(result));
      if (result.interrupted) process.exitCode = signalExitCode(result.interrupted);
      else if (!result.ok) process.exitCode = 1;
    } finally {
      progress.finish();
    }
  });
}
