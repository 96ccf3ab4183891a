import { join } from 'node:path';
import * as core from '@actions/core';
import type { TargetWords } from './azure/target.js';
import { loadDesiredTree } from './desired/load-desired.js';
import { loadPolicyTree, type LoadedTree } from './desired/load-tree.js';
import { annotate } from './github/annotations.js';
import { COMMENT_LIMIT, commentMarker, explainGitHubError, pullRequestOfCommit, tokenLogin, upsertComment, type Octokit, type Repo } from './github/comment.js';
import { isPushToDefaultBranch, readRunContext, type RunContext } from './github/context.js';
import { armProgressLog, armSummaryLine } from './github/progress.js';
import { writeSarif } from './render/sarif.js';
import { lintTree } from './lint/index.js';
import type { Diagnostic, Plan } from './model/index.js';
import { blockingProblems, computePlan, hasChanges } from './plan/compute.js';
import { DEFAULT_MAX_DELETES } from './plan/apply.js';
import { guardEmptyTree } from './desired/root-guess.js';
import type { Guardrails } from './plan/identity.js';
import { readPlanFile, savedPlanLine, writePlanFile } from './plan/plan-file.js';
import { applyLive, connect, defaultGuardrails, planLive, planScoped, type LiveConnection } from './pipeline/live.js';
import { whileInterruptible } from './pipeline/interrupt.js';
import { privateTempDir } from './plan/private-file.js';
import { renderApplyMarkdown } from './render/apply.js';
import { changeLabel } from './render/labels.js';
import { renderLintMarkdown, renderMarkdown } from './render/markdown.js';
import { mdText } from './render/escape.js';

type Mode = 'plan' | 'apply' | 'lint' | 'drift';

/** The job summary takes 1 MiB per step; leave room for multi-byte characters and the rest. */
const SUMMARY_PLAN_LIMIT = 600_000;

const FORK_NOTE =
  '> [!NOTE]\n> This pull request comes from a fork. GitHub gives fork pull requests no OIDC ID token and a read-only token, ' +
  'so there is no plan against Azure and no PR comment: only lint ran. A maintainer sees the plan once the change is in a ' +
  'branch of this repository (or after merge, on the apply run).';

/** `auto`: pull requests plan, pushes to the default branch apply, scheduled and manual runs look for drift. */
function resolveMode(input: string, ctx: RunContext): Mode {
  if (input === 'plan' || input === 'apply' || input === 'lint' || input === 'drift') return input;
  if (input !== '' && input !== 'auto') throw new Error(`input mode "${input}" is not one of auto, plan, apply, lint, drift`);
  if (ctx.eventName === 'push') {
    if (isPushToDefaultBranch(ctx)) return 'apply';
    core.info(`mode auto: ${ctx.ref ?? 'this push'} is not the default branch (${ctx.defaultBranch ?? 'main'}), so this run plans and does not apply.`);
    return 'plan';
  }
  if (ctx.eventName === 'schedule' || ctx.eventName === 'workflow_dispatch') return 'drift';
  if (ctx.eventName === 'pull_request_target') {
    core.warning('pull_request_target runs with a write token and secrets: plan on `pull_request` instead, and never check out the pull request\'s code in a pull_request_target job.');
  }
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

/** Input max-deletes: a whole number, -1 for no limit; empty means the default. */
function maxDeletesInput(): number {
  const text = core.getInput('max-deletes').trim();
  if (text === '') return DEFAULT_MAX_DELETES;
  const n = Number(text);
  if (!Number.isInteger(n) || n < -1) throw new Error(`input max-deletes must be a whole number of deletes, or -1 for no limit (got "${text}")`);
  return n;
}

/** Names the target in comment titles and markers: the environment, else the instance, else the snapshot. */
function targetKey(): string {
  return core.getInput('environment') || core.getInput('service-name') || core.getInput('live-snapshot') || 'default';
}

/** What one run reports: findings for annotations, sections of the job summary, the failure. */
class Report {
  findings: Diagnostic[] = [];
  sections: string[] = [];
  failure: string | undefined;

  /** Annotations (within GitHub's caps), the job summary and the failure, written once at the end. */
  async finish(): Promise<void> {
    annotate(this.findings, { error: this.failure ? 1 : 0 });
    // Why the step failed comes first: a reader of the summary sees it before the plan it is about.
    // It quotes file names and messages from the tree and from live: escaped like every other text in markdown.
    if (this.failure) this.sections.unshift(`> [!CAUTION]\n> ${this.failure.split('\n').map(mdText).join('\n> ')}\n`);
    if (process.env.GITHUB_STEP_SUMMARY) {
      try {
        await core.summary.addRaw(this.sections.join('\n')).write();
      } catch (e) {
        core.warning(`could not write the job summary: ${(e as Error).message}`);
      }
    }
    if (this.failure) core.setFailed(this.failure);
  }
}

/** The GitHub side: the sticky comment for this target, when there is a token and a repository. */
class Comments {
  private client: Promise<Octokit> | undefined;
  private login: Promise<string | undefined> | undefined;
  constructor(
    private ctx: RunContext,
    private token: string,
    private key: string,
  ) {}

  /** Octokit, loaded when the run first talks to GitHub (a run that does not starts without it). */
  private octokit(): Promise<Octokit> | undefined {
    if (!this.token || !this.ctx.owner || !this.ctx.repo) return undefined;
    return (this.client ??= import('@actions/github').then((github) => github.getOctokit(this.token)));
  }

  get repo(): Repo {
    return { owner: this.ctx.owner!, repo: this.ctx.repo! };
  }

  /** Posts or updates the sticky comment; returns its URL, or undefined (with a warning) when GitHub refused. */
  async upsert(kind: 'plan' | 'apply', issueNumber: number, body: string): Promise<string | undefined> {
    const octokit = this.octokit();
    if (!octokit) {
      core.warning(`no github-token or GITHUB_REPOSITORY: the ${kind} is in the job summary only, not on pull request #${issueNumber}.`);
      return undefined;
    }
    try {
      const author = await this.author(await octokit);
      const r = await upsertComment(await octokit, this.repo, issueNumber, commentMarker(kind, this.key), body, author);
      if (r.ignored.length) {
        core.warning(`pull request #${issueNumber} has ${r.ignored.length} comment(s) with this action's ${kind} marker written by someone other than ${author ?? 'this token'} (${[...new Set(r.ignored)].join(', ')}): left alone, not updated.`);
      }
      core.info(`${r.created ? 'Posted' : 'Updated'} the ${kind} comment on pull request #${issueNumber}: ${r.url}`);
      return r.url;
    } catch (e) {
      core.warning(explainGitHubError(`could not post the ${kind} comment on pull request #${issueNumber}`, e));
      return undefined;
    }
  }

  /** Who the token is (asked once): only a comment it wrote is updated. */
  private author(octokit: Octokit): Promise<string | undefined> {
    return (this.login ??= tokenLogin(octokit).then(({ login, why }) => {
      if (!login) core.warning(`could not tell which account github-token is (${why}): a new comment is posted instead of updating one, since only a comment this token wrote may be updated.`);
      else core.info(`github-token acts as ${login}: only its own comments are updated.`);
      return login;
    }));
  }

  /** The merged pull request the pushed commit came from, if any. */
  async mergedPull(): Promise<number | undefined> {
    if (!this.ctx.sha) return undefined;
    const octokit = this.octokit();
    if (!octokit) return undefined;
    try {
      const pr = await pullRequestOfCommit(await octokit, this.repo, this.ctx.sha);
      if (!pr) core.info(`commit ${this.ctx.sha.slice(0, 12)} is not from a merged pull request: the apply result is in the job summary only.`);
      return pr?.number;
    } catch (e) {
      core.warning(explainGitHubError(`could not find the pull request of commit ${this.ctx.sha.slice(0, 12)}`, e));
      return undefined;
    }
  }
}

function setPlanOutputs(plan: Plan, planFile: string): void {
  core.setOutput('has-changes', String(hasChanges(plan)));
  core.setOutput('summary', JSON.stringify(plan.summary));
  core.setOutput('plan-file', planFile);
}

async function planFromSnapshot(desired: LoadedTree, policiesPath: string, liveSnapshot: string, commit: string | undefined): Promise<Plan> {
  const live = await loadPolicyTree(liveSnapshot);
  const liveErrors = live.diagnostics.filter((d) => d.severity === 'error');
  if (liveErrors.length) {
    throw new Error(`live snapshot ${liveSnapshot}: ${liveErrors.length} error(s), first ${liveErrors[0]!.file}:${liveErrors[0]!.line} ${liveErrors[0]!.message}`);
  }
  return guardEmptyTree(computePlan(desired, live, { source: { kind: 'snapshot', path: liveSnapshot }, ...(commit ? { commit } : {}) }), desired.state.resources.size, policiesPath);
}

async function runWith(report: Report): Promise<void> {
  const ctx = readRunContext();
  const policiesPath = core.getInput('policies-path') || 'policies';
  const liveSnapshot = core.getInput('live-snapshot');
  const planFileInput = core.getInput('plan-file');
  const sarifFile = core.getInput('sarif-file');
  // Plan and snapshot files hold live content: the job's own temp folder, else a private one.
  const tempDir = process.env.RUNNER_TEMP || undefined;
  const key = targetKey();
  const comments = new Comments(ctx, core.getInput('github-token'), key);
  const pr = ctx.pullRequest;
  const fromFork = !!pr?.fromFork;
  let mode = resolveMode(core.getInput('mode'), ctx);
  if (fromFork && mode !== 'lint') {
    core.info(`pull request #${pr!.number} comes from the fork ${pr!.headRepo ?? '(deleted)'}: lint only, no Azure call.`);
    mode = 'lint';
  }
  const titled = (what: string) => `APIM policy ${what} · ${key}`;
  const shown = { ...(ctx.runUrl ? { runUrl: ctx.runUrl } : {}), ...((pr?.headSha ?? ctx.sha) ? { commit: (pr?.headSha ?? ctx.sha)! } : {}) };

  // A saved plan carries its own content: the tree is not read again.
  const environment = core.getInput('environment');
  const desired = mode === 'apply' && planFileInput ? undefined : await loadDesiredTree(policiesPath, environment ? { environment } : {});
  if (desired) {
    const findings = lintTree(desired);
    report.findings.push(...findings);
    if (sarifFile) {
      await writeSarif(sarifFile, findings);
      core.info(`SARIF with ${findings.length} finding(s): ${sarifFile}`);
    }
    const errors = findings.filter((d) => d.severity === 'error');
    if (errors.length || mode === 'lint') {
      const note = fromFork ? FORK_NOTE : undefined;
      report.sections.push(renderLintMarkdown(findings, { title: titled('lint'), ...shown, ...(note ? { note } : {}) }));
      if (errors.length && pr && !fromFork) {
        const url = await comments.upsert('plan', pr.number, renderLintMarkdown(findings, { title: titled('plan'), ...shown, maxLength: COMMENT_LIMIT }));
        if (url) core.setOutput('comment-url', url);
      }
      if (errors.length) {
        const first = errors[0]!;
        report.failure = `${errors.length} error(s) in ${policiesPath}; nothing was planned or written. First: ${first.file}:${first.line}:${first.column} ${first.message}`;
      }
      return;
    }
  }

  let conn: LiveConnection | undefined;
  let guardrails: Guardrails | undefined;
  let plan: Plan;
  const started = Date.now();
  // Read before any Azure call: a wrong value stops the run before it starts.
  const maxDeletes = mode === 'apply' ? maxDeletesInput() : undefined;
  if (liveSnapshot && mode !== 'apply') plan = await planFromSnapshot(desired!, policiesPath, liveSnapshot, ctx.sha);
  else {
    conn = await connect(targetInputs(), armProgressLog((line) => core.info(line)));
    core.info(`${mode === 'apply' && planFileInput ? 'Applying the saved plan to' : 'Reading'} ${conn.target.serviceName} (resource group ${conn.target.resourceGroup}, subscription ${conn.target.subscriptionId})`);
    guardrails = defaultGuardrails(conn, { allowPrivilegedRoles: booleanInput('allow-privileged-roles'), allowedScopes: core.getMultilineInput('allowed-scopes') });
    const options = { ...(ctx.sha ? { commit: ctx.sha } : {}), guardrails, policiesPath };
    const basePath = core.getInput('base-policies-path');
    if (planFileInput && mode === 'apply') plan = await readPlanFile(planFileInput);
    else if (basePath && mode !== 'apply') {
      // Scoped to what the pull request changes; an apply always plans in full.
      const base = await loadDesiredTree(basePath, environment ? { environment } : {});
      plan = await planScoped(conn, desired!, base, { ...options, baseLabel: basePath });
    } else plan = await planLive(conn, desired!, options);
    if (!(planFileInput && mode === 'apply')) {
      const { create, update, delete: del, unchanged } = plan.summary;
      core.info(`Planned: ${create} to create, ${update} to update, ${del} to delete, ${unchanged} unchanged; ${armSummaryLine(conn.session.scheduler.stats(), Date.now() - started)}`);
    }
  }
  if (planFileInput && mode === 'apply') core.info(savedPlanLine(plan));
  const planFile = mode === 'apply' && planFileInput ? planFileInput : join(tempDir ?? (await privateTempDir()), 'apim-policy-plan.json');
  if (planFile !== planFileInput) await writePlanFile(planFile, plan);
  setPlanOutputs(plan, planFile);
  report.findings.push(...plan.problems);

  if (mode !== 'apply') {
    const title = titled(mode === 'drift' ? 'drift' : 'plan');
    // Lint warnings travel with the plan's own problems, so reviewers see them in one place.
    const shownPlan: Plan = { ...plan, problems: [...report.findings] };
    report.sections.push(renderMarkdown(shownPlan, { title, ...shown, maxLength: SUMMARY_PLAN_LIMIT }));
    // An apply of the saved plan names the same hash: what an environment's reviewer compares.
    report.sections.push(`Plan file \`${plan.integrity?.slice(0, 16)}\`: an apply of this file (input plan-file) names the same hash, and refuses the file if it was changed.\n`);
    if (pr) {
      const body = renderMarkdown(shownPlan, { title, ...shown, ...(ctx.runUrl ? { fullPlanUrl: ctx.runUrl } : {}), maxLength: COMMENT_LIMIT - 200 });
      const url = await comments.upsert('plan', pr.number, body);
      if (url) {
        core.setOutput('comment-url', url);
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
      if (booleanInput('fail-on-drift')) report.failure = `live APIM differs from ${policiesPath}: ${JSON.stringify(plan.summary)}`;
      else core.warning(`live APIM differs from ${policiesPath}: ${JSON.stringify(plan.summary)} (set fail-on-drift: true to fail the run)`);
    }
    return;
  }

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  // A cancelled run gets SIGINT, then SIGTERM, then SIGKILL: the first stops the writes and restores.
  let snapshotFile: string | undefined;
  const snapshotDir = tempDir ?? (await privateTempDir());
  const result = await whileInterruptible({ say: (line) => core.warning(line), snapshotFile: () => snapshotFile }, (signal) =>
    applyLive(conn!, plan, {
      allowDeletes: booleanInput('allow-deletes'),
      ...(maxDeletes !== undefined ? { maxDeletes } : {}),
      allowDestructiveIdentityChanges: booleanInput('allow-destructive-identity-changes'),
      ...(guardrails ? { guardrails } : {}),
      snapshotFile: join(snapshotDir, `apim-policy-snapshot-${stamp}.json`),
      signal,
      onEvent: (e) => {
        if (e.type === 'snapshot') {
          // Before the first write: a run killed half-way still says where the snapshot is.
          snapshotFile = e.file;
          core.setOutput('snapshot-file', e.file);
          core.info(`Snapshot of what this apply changes, as it was before: ${e.file}`);
        }
        if (e.type === 'written') core.info(`${e.change.action} ${changeLabel(e.change)}: done`);
        if (e.type === 'restore') core.info(`restore ${e.address}: ${e.ok ? 'done' : e.message}`);
      },
    }),
  );
  core.info(`${result.ok ? 'Applied' : 'Apply failed after'} ${result.applied.length} change(s); ${armSummaryLine(conn!.session.scheduler.stats(), Date.now() - started)}`);
  const meta = [shown.commit ? `commit \`${shown.commit.slice(0, 12)}\`` : '', shown.runUrl ? `[workflow run](${shown.runUrl})` : ''].filter(Boolean).join(' · ');
  const applied = (maxListed?: number) =>
    `### ${titled('apply')}\n\n${meta ? meta + '\n\n' : ''}${renderApplyMarkdown(result, maxListed ? { maxListed } : {})}`;
  report.sections.push(applied());
  if (planFileInput) report.sections.push(`${savedPlanLine(plan)}.\n`);
  const merged = await comments.mergedPull();
  if (merged !== undefined) {
    const url = await comments.upsert('apply', merged, applied(200));
    if (url) {
      core.setOutput('comment-url', url);
      report.sections.push(`Result posted on [pull request #${merged}](${url}).\n`);
    }
  }
  if (!result.ok) report.failure = `apply failed: ${result.error}`;
}

/** The action: inputs → lint → plan (or apply) → PR comment, outputs, annotations, job summary. */
export async function run(): Promise<void> {
  const report = new Report();
  try {
    await runWith(report);
  } catch (e) {
    report.failure = (e as Error).message;
  }
  await report.finish();
}
