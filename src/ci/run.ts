/**
 * The workflow of a CI run, against any CI host: settings → mode (by the event; forks lint only) →
 * load the tree → lint → plan (comment, summary) or apply (snapshot, result) → report. The host
 * says what happened (event, pull request) and shows what this reports (log, annotations, outputs,
 * job summary, sticky comment, failure).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Guardrails } from '../plan/identity.js';
import { loadDesiredTree } from '../desired/load-desired.js';
import { planTokens } from '../plan/entity-apply.js';
import { loadPolicyTree, type LoadedTree } from '../desired/load-tree.js';
import { policiesRootOf } from '../desired/root-guess.js';
import { lintRuleText, lintTree } from '../lint/index.js';
import type { CiHost } from '../model/ci-host.js';
import type { Plan } from '../model/index.js';
import { blockingProblems, computePlan, hasChanges } from '../plan/compute.js';
import { readPlanFile, savedPlanLine, writePlanFile } from './plan-file.js';
import { privateTempDir } from '../plan/private-file.js';
import { connect, type LiveConnection } from '../azure/connection.js';
import { applyLive, defaultGuardrails, planLive, planScoped } from './plan-apply.js';
import { whileInterruptible } from './interrupt.js';
import { renderApplyMarkdown } from '../render/apply.js';
import { renderLintMarkdown, renderMarkdown } from '../render/markdown.js';
import { toSarif } from '../render/sarif.js';
import { applyEventLine, snapshotFilePath } from './apply-log.js';
import { resolveMode, type Mode } from './mode.js';
import { armProgressLog, armSummaryLine } from './progress.js';
import { Report } from './report.js';
import { parseSettings, settingWarnings, targetKey, type Settings } from './settings.js';

/** The job summary takes 1 MiB per step; leave room for multi-byte characters and the rest. */
const SUMMARY_PLAN_LIMIT = 600_000;

const FORK_NOTE =
  '> [!NOTE]\n> This pull request comes from a fork. GitHub gives fork pull requests no OIDC ID token and a read-only token, ' +
  'so there is no plan against Azure and no PR comment: only lint ran. A maintainer sees the plan once the change is in a ' +
  'branch of this repository (or after merge, on the apply run).';

/** The run's link and commit, shown under every title. */
interface RunLinks {
  runUrl?: string;
  commit?: string;
}

function setPlanOutputs(host: CiHost, plan: Plan, planFile: string): void {
  host.setOutput('has-changes', String(hasChanges(plan)));
  host.setOutput('summary', JSON.stringify(plan.summary));
  host.setOutput('plan-file', planFile);
}

async function planFromSnapshot(desired: LoadedTree, policiesPath: string, liveSnapshot: string, commit: string | undefined): Promise<Plan> {
  const live = await loadPolicyTree(liveSnapshot);
  const liveErrors = live.diagnostics.filter((d) => d.severity === 'error');
  if (liveErrors.length) {
    throw new Error(`live snapshot ${liveSnapshot}: ${liveErrors.length} error(s), first ${liveErrors[0]!.file}:${liveErrors[0]!.line} ${liveErrors[0]!.message}`);
  }
  return computePlan(desired, live, { source: { kind: 'snapshot', path: liveSnapshot }, ...(commit ? { commit } : {}), policiesRoot: policiesRootOf(policiesPath, desired.state.resources.size) });
}

/** One run of the workflow; what it finds goes into `report`. */
async function runWith(host: CiHost, report: Report): Promise<void> {
  const ctx = host.context;
  for (const w of settingWarnings(host.settings)) host.warning(w);
  const { settings, problems } = parseSettings(host.settings);
  const modeProblem = problems.find((p) => p.setting === 'mode');
  if (modeProblem) throw new Error(modeProblem.message);
  const { policiesPath, liveSnapshot, planFile: savedPlanFile, sarifFile, environment } = settings;
  const key = targetKey(settings);
  const pr = ctx.pullRequest;
  const fromFork = !!pr?.fromFork;
  let mode: Mode = resolveMode(settings.mode, ctx, host);
  if (fromFork && mode !== 'lint') {
    host.info(`pull request #${pr!.number} comes from the fork ${pr!.headRepo ?? '(deleted)'}: lint only, no Azure call.`);
    mode = 'lint';
  }
  const titleFor = (what: string) => `APIM policy ${what} · ${key}`;
  const commit = pr?.headSha ?? ctx.sha;
  const links: RunLinks = { ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}), ...(commit ? { commit } : {}) };
  const applySaved = mode === 'apply' && savedPlanFile !== undefined;

  // A saved plan carries its own content: the tree is not read again.
  // Lint (a fork's pull request among them: forks get no secrets) and a plan against a snapshot folder need no secret value.
  const tokens = mode === 'lint' || (liveSnapshot !== undefined && mode !== 'apply') ? 'optional' : 'required';
  const desired = applySaved ? undefined : await loadDesiredTree(policiesPath, { tokens, ...(environment ? { environment } : {}) });
  // Secret values from the environment are hidden in the runner's log before anything could print one.
  for (const value of desired?.secrets?.values() ?? []) if (value) host.mask(value);
  if (desired) {
    const findings = lintTree(desired);
    report.findings.push(...findings);
    if (sarifFile) {
      await mkdir(dirname(sarifFile), { recursive: true });
      await writeFile(sarifFile, JSON.stringify(toSarif(findings, undefined, lintRuleText()), null, 2) + '\n');
      host.info(`SARIF with ${findings.length} finding(s): ${sarifFile}`);
    }
    const errors = findings.filter((d) => d.severity === 'error');
    if (errors.length || mode === 'lint') {
      const note = fromFork ? FORK_NOTE : undefined;
      report.sections.push(renderLintMarkdown(findings, { title: titleFor('lint'), ...links, ...(note ? { note } : {}) }));
      if (errors.length && pr && !fromFork) {
        const url = await host.upsertComment('plan', key, pr.number, renderLintMarkdown(findings, { title: titleFor('plan'), ...links, maxLength: host.commentLimit }));
        if (url) host.setOutput('comment-url', url);
      }
      if (errors.length) {
        const first = errors[0]!;
        report.failure = `${errors.length} error(s) in ${policiesPath}; nothing was planned or written. First: ${first.file}:${first.line}:${first.column} ${first.message}`;
      }
      return;
    }
  }

  // Read before any Azure call: a wrong value stops the run before it starts.
  const maxDeletesProblem = problems.find((p) => p.setting === 'max-deletes');
  if (mode === 'apply' && maxDeletesProblem) throw new Error(maxDeletesProblem.message);
  if (liveSnapshot && mode !== 'apply') {
    const plan = await planFromSnapshot(desired!, policiesPath, liveSnapshot, ctx.sha);
    return reportPlan(host, report, settings, mode, plan, { key, links, titleFor });
  }
  const started = Date.now();
  const conn = await connect(
    settings.target,
    armProgressLog((line) => host.info(line)),
    host.idToken,
  );
  host.info(`${applySaved ? 'Applying the saved plan to' : 'Reading'} ${conn.target.serviceName} (resource group ${conn.target.resourceGroup}, subscription ${conn.target.subscriptionId})`);
  const guardrails = defaultGuardrails(conn, settings.guardrails);
  const options = { ...(ctx.sha ? { commit: ctx.sha } : {}), guardrails, policiesPath };
  let plan: Plan;
  if (applySaved) {
    plan = await readPlanFile(savedPlanFile!);
    for (const token of planTokens(plan)) if (process.env[token]) host.mask(process.env[token]);
  } else if (settings.basePoliciesPath && mode !== 'apply') {
    // Scoped to what the pull request changes; an apply always plans in full.
    const base = await loadDesiredTree(settings.basePoliciesPath, environment ? { environment } : {});
    plan = await planScoped(conn, desired!, base, { ...options, baseLabel: settings.basePoliciesPath });
  } else plan = await planLive(conn, desired!, options);
  if (!applySaved) {
    const { create, update, delete: del, unchanged } = plan.summary;
    host.info(`Planned: ${create} to create, ${update} to update, ${del} to delete, ${unchanged} unchanged; ${armSummaryLine(conn.session.scheduler.stats(), Date.now() - started)}`);
  }
  if (mode !== 'apply') return reportPlan(host, report, settings, mode, plan, { key, links, titleFor });
  return applyAndReport(host, report, settings, plan, { conn, guardrails, started, key, links, titleFor });
}

interface Shown {
  key: string;
  links: RunLinks;
  titleFor: (what: string) => string;
}

/** Writes the plan file, sets the outputs, and shows the plan (summary, comment); fails on a plan apply would refuse. */
async function reportPlan(host: CiHost, report: Report, settings: Settings, mode: Mode, plan: Plan, shown: Shown): Promise<void> {
  const ctx = host.context;
  const pr = ctx.pullRequest;
  const planFile = join(host.tempDir ?? (await privateTempDir()), 'apim-policy-plan.json');
  await writePlanFile(planFile, plan);
  setPlanOutputs(host, plan, planFile);
  report.findings.push(...plan.problems);
  const title = shown.titleFor(mode === 'drift' ? 'drift' : 'plan');
  // Lint warnings travel with the plan's own problems, so reviewers see them in one place.
  const reviewedPlan: Plan = { ...plan, problems: [...report.findings] };
  report.sections.push(renderMarkdown(reviewedPlan, { title, ...shown.links, maxLength: SUMMARY_PLAN_LIMIT }));
  // An apply of the saved plan names the same hash: what an environment's reviewer compares.
  report.sections.push(`Plan file \`${plan.integrity?.slice(0, 16)}\`: an apply of this file (input plan-file) names the same hash, and refuses the file if it was changed.\n`);
  if (pr) {
    const body = renderMarkdown(reviewedPlan, { title, ...shown.links, ...(ctx.runUrl ? { fullPlanUrl: ctx.runUrl } : {}), maxLength: host.commentLimit - 200 });
    const url = await host.upsertComment('plan', shown.key, pr.number, body);
    if (url) {
      host.setOutput('comment-url', url);
      report.sections.push(`Plan posted on [pull request #${pr.number}](${url}).\n`);
    }
  }
  // A plan apply would refuse fails the check now (so branch protection blocks the merge), with
  // the comment and the summary above showing why.
  const errors = blockingProblems(plan);
  if (errors.length) {
    const first = errors[0]!;
    report.failure = `${errors.length} error(s) stop this plan: apply would refuse it. First: ${first.file}:${first.line}:${first.column} ${first.message}`;
    return;
  }
  if (mode === 'drift' && hasChanges(plan)) {
    const drift = `live APIM differs from ${settings.policiesPath}: ${JSON.stringify(plan.summary)}`;
    if (settings.failOnDrift) report.failure = drift;
    else host.warning(`${drift} (set fail-on-drift: true to fail the run)`);
  }
}

/** Applies the plan (stopped and restored on SIGINT/SIGTERM), and shows the result (summary, the merged pull request's comment). */
async function applyAndReport(host: CiHost, report: Report, settings: Settings, plan: Plan, run: Shown & { conn: LiveConnection; guardrails: Guardrails; started: number }): Promise<void> {
  const { conn, links, titleFor } = run;
  const savedPlanFile = settings.planFile;
  if (savedPlanFile) host.info(savedPlanLine(plan));
  const planFile = savedPlanFile ?? join(host.tempDir ?? (await privateTempDir()), 'apim-policy-plan.json');
  if (!savedPlanFile) await writePlanFile(planFile, plan);
  setPlanOutputs(host, plan, planFile);
  report.findings.push(...plan.problems);

  // A cancelled run gets SIGINT, then SIGTERM, then SIGKILL: the first stops the writes and restores.
  let writtenSnapshot: string | undefined;
  const snapshotFile = await snapshotFilePath(conn.target.serviceName, host.tempDir);
  const result = await whileInterruptible({ say: (line) => host.warning(line), snapshotFile: () => writtenSnapshot }, (signal) =>
    applyLive(conn, plan, {
      ...settings.apply,
      guardrails: run.guardrails,
      snapshotFile,
      signal,
      onEvent: (e) => {
        if (e.type === 'snapshot') {
          // Before the first write: a run killed half-way still says where the snapshot is.
          writtenSnapshot = e.file;
          host.setOutput('snapshot-file', e.file);
        }
        const line = applyEventLine(e, 'log');
        if (line) host.info(line);
      },
    }),
  );
  host.info(`${result.ok ? 'Applied' : 'Apply failed after'} ${result.applied.length} change(s); ${armSummaryLine(conn.session.scheduler.stats(), Date.now() - run.started)}`);
  const meta = [links.commit ? `commit \`${links.commit.slice(0, 12)}\`` : '', links.runUrl ? `[workflow run](${links.runUrl})` : ''].filter(Boolean).join(' · ');
  const applied = (maxListed?: number) => `### ${titleFor('apply')}\n\n${meta ? meta + '\n\n' : ''}${renderApplyMarkdown(result, maxListed ? { maxListed } : {})}`;
  report.sections.push(applied());
  if (savedPlanFile) report.sections.push(`${savedPlanLine(plan)}.\n`);
  const merged = await host.mergedPullRequest();
  if (merged !== undefined) {
    const url = await host.upsertComment('apply', run.key, merged, applied(200));
    if (url) {
      host.setOutput('comment-url', url);
      report.sections.push(`Result posted on [pull request #${merged}](${url}).\n`);
    }
  }
  if (!result.ok) report.failure = `apply failed: ${result.error}`;
}

/** The workflow on `host`: settings → lint → plan (or apply) → comment, outputs, annotations, job summary. */
export async function run(host: CiHost): Promise<void> {
  const report = new Report();
  try {
    await runWith(host, report);
  } catch (e) {
    report.failure = (e as Error).message;
  }
  await report.finish(host);
}
