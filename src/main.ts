import { join } from 'node:path';
import * as core from '@actions/core';
import type { TargetWords } from './azure/target.js';
import { loadPolicyTree, type LoadedTree } from './desired/load-tree.js';
import { lintTree } from './lint/index.js';
import type { Diagnostic, Plan } from './model/index.js';
import { computePlan, hasChanges } from './plan/compute.js';
import { readPlanFile, writePlanFile } from './plan/plan-file.js';
import { applyLive, connect, planLive, type LiveConnection } from './pipeline/live.js';
import { renderApplyMarkdown } from './render/apply.js';
import { renderMarkdown } from './render/markdown.js';

type Mode = 'plan' | 'apply' | 'lint' | 'drift';

function annotate(d: Diagnostic): void {
  const props = { title: d.rule, file: d.file, startLine: d.line, startColumn: d.column };
  if (d.severity === 'error') core.error(d.message, props);
  else if (d.severity === 'warning') core.warning(d.message, props);
  else core.notice(d.message, props);
}

/** `auto`: pull requests plan, pushes apply, scheduled and manual runs look for drift. */
function resolveMode(input: string): Mode {
  if (input === 'plan' || input === 'apply' || input === 'lint' || input === 'drift') return input;
  if (input !== '' && input !== 'auto') throw new Error(`input mode "${input}" is not one of auto, plan, apply, lint, drift`);
  const event = process.env.GITHUB_EVENT_NAME ?? '';
  if (event === 'push') return 'apply';
  if (event === 'schedule' || event === 'workflow_dispatch') return 'drift';
  return 'plan';
}

function targetInputs(): TargetWords {
  return {
    armEndpoint: core.getInput('arm-endpoint'),
    subscriptionId: core.getInput('subscription-id'),
    resourceGroup: core.getInput('resource-group'),
    serviceName: core.getInput('service-name'),
    auth: core.getInput('auth'),
    tenantId: core.getInput('tenant-id'),
    clientId: core.getInput('client-id'),
    audience: core.getInput('audience'),
  };
}

const booleanInput = (name: string) => /^true$/i.test(core.getInput(name).trim());

function setPlanOutputs(plan: Plan, planFile: string): void {
  core.setOutput('has-changes', String(hasChanges(plan)));
  core.setOutput('summary', JSON.stringify(plan.summary));
  core.setOutput('plan-file', planFile);
}

async function lintOrFail(tree: LoadedTree, policiesPath: string): Promise<boolean> {
  const diagnostics = lintTree(tree);
  diagnostics.slice(0, 30).forEach(annotate);
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (!errors.length) return true;
  await core.summary
    .addHeading('APIM policy lint', 3)
    .addRaw(`${errors.length} error(s) in ${policiesPath}; nothing was planned or written.\n\n`)
    .addList(errors.slice(0, 100).map((d) => `${d.file}:${d.line}:${d.column} ${d.message}`))
    .write();
  core.setFailed(`${errors.length} error(s) in ${policiesPath}: ${errors[0]!.file}:${errors[0]!.line}:${errors[0]!.column} ${errors[0]!.message}`);
  return false;
}

/** The action: inputs → lint → plan (or apply) → outputs and job summary. */
export async function run(): Promise<void> {
  try {
    const policiesPath = core.getInput('policies-path') || 'policies';
    const liveSnapshot = core.getInput('live-snapshot');
    const planFileInput = core.getInput('plan-file');
    const mode = resolveMode(core.getInput('mode'));
    const tempDir = process.env.RUNNER_TEMP ?? '.';

    // A saved plan carries its own content: the tree is not read again.
    const desired = mode === 'apply' && planFileInput ? undefined : await loadPolicyTree(policiesPath);
    if (desired && !(await lintOrFail(desired, policiesPath))) return;
    if (mode === 'lint') {
      await core.summary.addHeading('APIM policy lint', 3).addRaw(`No errors in ${desired!.state.resources.size} policies.\n`).write();
      return;
    }
    const commit = process.env.GITHUB_SHA;
    let conn: LiveConnection | undefined;
    let plan: Plan;
    if (liveSnapshot && mode !== 'apply') {
      const live = await loadPolicyTree(liveSnapshot);
      const liveErrors = live.diagnostics.filter((d) => d.severity === 'error');
      if (liveErrors.length) {
        core.setFailed(`live snapshot ${liveSnapshot}: ${liveErrors.length} error(s), first ${liveErrors[0]!.file}:${liveErrors[0]!.line} ${liveErrors[0]!.message}`);
        return;
      }
      plan = computePlan(desired!, live, { source: { kind: 'snapshot', path: liveSnapshot }, ...(commit ? { commit } : {}) });
    } else {
      conn = connect(targetInputs());
      plan = planFileInput && mode === 'apply' ? await readPlanFile(planFileInput) : await planLive(conn, desired!, commit ? { commit } : {});
    }
    const planFile = mode === 'apply' && planFileInput ? planFileInput : join(tempDir, 'apim-policy-plan.json');
    if (planFile !== planFileInput) await writePlanFile(planFile, plan);
    setPlanOutputs(plan, planFile);
    plan.problems.slice(0, 20).forEach(annotate);

    if (mode !== 'apply') {
      await core.summary.addRaw(renderMarkdown(plan, { maxLength: 1_000_000 })).write();
      if (mode === 'drift' && hasChanges(plan) && booleanInput('fail-on-drift')) core.setFailed(`live APIM differs from ${policiesPath}: ${JSON.stringify(plan.summary)}`);
      return;
    }
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const result = await applyLive(conn!, plan, {
      allowDeletes: booleanInput('allow-deletes'),
      snapshotFile: join(tempDir, `apim-policy-snapshot-${stamp}.json`),
      onEvent: (e) => {
        if (e.type === 'written') core.info(`${e.change.action} ${e.change.address}: done`);
        if (e.type === 'restore') core.info(`restore ${e.address}: ${e.ok ? 'done' : e.message}`);
      },
    });
    if (result.snapshotFile) core.setOutput('snapshot-file', result.snapshotFile);
    await core.summary.addHeading('APIM policy apply', 3).addRaw(renderApplyMarkdown(result)).write();
    if (!result.ok) core.setFailed(`apply failed: ${result.error}`);
  } catch (e) {
    core.setFailed((e as Error).message);
  }
}
