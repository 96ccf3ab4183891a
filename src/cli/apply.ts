import { join } from 'node:path';
import type { Command } from 'commander';
import type { TargetWords } from '../azure/target.js';
import type { Plan } from '../model/index.js';
import { DEFAULT_MAX_DELETES, type ApplyEvent } from '../plan/apply.js';
import { blockingProblems, hasChanges } from '../plan/compute.js';
import { readPlanFile, savedPlanLine } from '../plan/plan-file.js';
import { applyLive, defaultGuardrails, planLive } from '../pipeline/live.js';
import { signalExitCode, whileInterruptible } from '../pipeline/interrupt.js';
import { privateTempDir } from '../plan/private-file.js';
import { renderApplyText } from '../render/apply.js';
import { renderText } from '../render/text.js';
import { changeLabel } from '../render/labels.js';
import { CliError } from './errors.js';
import { loadDesired } from './plan.js';
import { addIdentityOptions, addTargetOptions, connectWithProgress, currentCommit, guardrailWords, type IdentityFlags } from './target.js';

interface ApplyOptions extends TargetWords, IdentityFlags {
  plan?: string;
  policies?: string;
  allowDeletes?: boolean;
  maxDeletes?: number;
  snapshotFile?: string;
}

/** `--max-deletes N`: a whole number, -1 for no limit. */
export function parseMaxDeletes(value: string): number {
  const n = Number(value.trim());
  if (value.trim() === '' || !Number.isInteger(n) || n < -1) throw new CliError(`--max-deletes must be a whole number of deletes, or -1 for no limit (got "${value}")`, 1);
  return n;
}

/**
 * Default snapshot path: a new file per run, never inside the policies tree — in RUNNER_TEMP in
 * Actions (the job's own folder), else in a new folder only this user can enter.
 */
export async function defaultSnapshotFile(serviceName: string, now = new Date()): Promise<string> {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return join(process.env.RUNNER_TEMP || (await privateTempDir()), `apim-policy-snapshot-${serviceName}-${stamp}.json`);
}

function eventLine(e: ApplyEvent): string | undefined {
  if (e.type === 'snapshot') return `Snapshot of what this apply changes, as it was before: ${e.file}`;
  if (e.type === 'written') return `  ${e.change.action.padEnd(6)} ${changeLabel(e.change)} … done`;
  if (e.type === 'restore') return `  restore ${e.address} … ${e.ok ? 'done' : 'FAILED'}`;
  return undefined;
}

export function registerApply(program: Command): void {
  const command = program
    .command('apply')
    .description('Apply a saved plan exactly (--plan), or plan the tree and apply that (--policies). Writes use If-Match; a failure restores what the run wrote.')
    .option('--plan <file>', 'the plan file written by plan --out; refused if live changed since')
    .option('--policies <dir>', 'plan this tree now and apply it')
    .option('--allow-deletes', 'also delete live policies that are not in the tree')
    .option('--max-deletes <n>', `refuse a plan that deletes more than n resources, even with --allow-deletes (-1: no limit)`, parseMaxDeletes, DEFAULT_MAX_DELETES)
    .option('--snapshot-file <file>', 'where to keep the pre-apply snapshot, a new file (default: in RUNNER_TEMP, or in a new private folder in the temp folder); restore --snapshot puts it back');
  addIdentityOptions(addTargetOptions(command), { apply: true }).action(async (opts: ApplyOptions) => {
    if (!!opts.plan === !!opts.policies) throw new CliError('apply needs exactly one of --plan <file> or --policies <dir>', 1);
    // Read and check every input before connecting: nothing is written when input is invalid.
    const saved: Plan | undefined = opts.plan ? await readPlanFile(opts.plan) : undefined;
    const desired = opts.policies ? await loadDesired(opts.policies, opts.environment) : undefined;
    const { conn, progress } = await connectWithProgress(opts, 'ARM calls');
    const guardrails = defaultGuardrails(conn, guardrailWords(opts));
    let plan: Plan;
    try {
      if (saved) plan = saved;
      else {
        const commit = currentCommit(opts.policies!);
        plan = await planLive(conn, desired!, { ...(commit ? { commit } : {}), guardrails, policiesPath: opts.policies! });
        progress.finish();
        process.stdout.write(renderText(plan, { color: process.stdout.isTTY === true }));
      }
      // A plan with errors goes on to apply, which refuses it (exit 1), even with nothing to change.
      if (!hasChanges(plan) && blockingProblems(plan).length === 0) {
        process.stdout.write('Nothing to apply.\n');
        return;
      }
      const snapshotFile = opts.snapshotFile ?? (await defaultSnapshotFile(conn.target.serviceName));
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
            const line = eventLine(e);
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
