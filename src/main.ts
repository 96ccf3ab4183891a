import { join } from 'node:path';
import * as core from '@actions/core';
import { loadPolicyTree } from './desired/load-tree.js';
import { lintTree } from './lint/index.js';
import type { Diagnostic } from './model/index.js';
import { computePlan, hasChanges } from './plan/compute.js';
import { writePlanFile } from './plan/plan-file.js';
import { renderMarkdown } from './render/markdown.js';

function annotate(d: Diagnostic): void {
  const props = { title: d.rule, file: d.file, startLine: d.line, startColumn: d.column };
  if (d.severity === 'error') core.error(d.message, props);
  else if (d.severity === 'warning') core.warning(d.message, props);
  else core.notice(d.message, props);
}

/** The action: inputs → lint → plan → outputs and job summary. */
export async function run(): Promise<void> {
  try {
    const policiesPath = core.getInput('policies-path') || 'policies';
    const liveSnapshot = core.getInput('live-snapshot');
    const mode = core.getInput('mode') || 'auto';

    const desired = await loadPolicyTree(policiesPath);
    const diagnostics = lintTree(desired);
    diagnostics.slice(0, 30).forEach(annotate);
    const errors = diagnostics.filter((d) => d.severity === 'error');
    if (errors.length) {
      await core.summary
        .addHeading('APIM policy lint', 3)
        .addRaw(`${errors.length} error(s) in ${policiesPath}; nothing was planned.\n\n`)
        .addList(errors.slice(0, 100).map((d) => `${d.file}:${d.line}:${d.column} ${d.message}`))
        .write();
      core.setFailed(`${errors.length} error(s) in ${policiesPath}: ${errors[0]!.file}:${errors[0]!.line}:${errors[0]!.column} ${errors[0]!.message}`);
      return;
    }
    if (mode === 'lint') {
      await core.summary.addHeading('APIM policy lint', 3).addRaw(`No errors in ${desired.state.resources.size} policies.\n`).write();
      return;
    }
    if (!liveSnapshot) {
      core.setFailed(
        `mode "${mode}" needs a live APIM instance, which this version cannot reach yet; set input live-snapshot to plan against a folder, or mode: lint`,
      );
      return;
    }
    const live = await loadPolicyTree(liveSnapshot);
    const liveErrors = live.diagnostics.filter((d) => d.severity === 'error');
    if (liveErrors.length) {
      core.setFailed(`live snapshot ${liveSnapshot}: ${liveErrors.length} error(s), first ${liveErrors[0]!.file}:${liveErrors[0]!.line} ${liveErrors[0]!.message}`);
      return;
    }
    const plan = computePlan(desired, live, { source: { kind: 'snapshot', path: liveSnapshot }, commit: process.env.GITHUB_SHA });
    const planFile = join(process.env.RUNNER_TEMP ?? '.', 'apim-policy-plan.json');
    await writePlanFile(planFile, plan);
    core.setOutput('has-changes', String(hasChanges(plan)));
    core.setOutput('summary', JSON.stringify(plan.summary));
    core.setOutput('plan-file', planFile);
    await core.summary.addRaw(renderMarkdown(plan, { maxLength: 1_000_000 })).write();
  } catch (e) {
    core.setFailed((e as Error).message);
  }
}
