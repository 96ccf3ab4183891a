/**
 * The CI host of a GitHub Actions run, over `@actions/core` and (loaded when the run first talks
 * to GitHub) `@actions/github`: inputs, the event, the ID token, the log, annotations, outputs,
 * the job summary and the sticky pull-request comment.
 */
import * as core from '@actions/core';
import type { CiHost, CommentKind, RunContext, SettingSource } from '../model/ci-host.js';
import { annotate } from './annotations.js';
import { COMMENT_LIMIT, commentMarker, explainGitHubError, pullRequestOfCommit, tokenLogin, upsertComment, type Octokit, type Repo } from './comment.js';
import { readRunContext } from './context.js';
import { githubIdToken } from './id-token.js';

/** The action's inputs (INPUT_* as the runner sets them); an empty input is not set. */
export const actionInputs: SettingSource = {
  value: (name) => core.getInput(name) || undefined,
  values: (name) => core.getMultilineInput(name),
  flag: (name) => /^true$/i.test(core.getInput(name).trim()),
  label: (name) => `input ${name}`,
};

/** The sticky comments of this run, when there is a token and a repository. */
class Comments {
  private client: Promise<Octokit> | undefined;
  private login: Promise<string | undefined> | undefined;
  constructor(
    private ctx: RunContext,
    private token: string,
  ) {}

  /** Octokit, loaded when the run first talks to GitHub (a run that does not starts without it). */
  private octokit(): Promise<Octokit> | undefined {
    if (!this.token || !this.ctx.owner || !this.ctx.repo) return undefined;
    return (this.client ??= import('@actions/github').then((github) => github.getOctokit(this.token)));
  }

  private get repo(): Repo {
    return { owner: this.ctx.owner!, repo: this.ctx.repo! };
  }

  /** Posts or updates the sticky comment; returns its URL, or undefined (with a warning) when GitHub refused. */
  async upsert(kind: CommentKind, key: string, issueNumber: number, body: string): Promise<string | undefined> {
    const octokit = this.octokit();
    if (!octokit) {
      core.warning(`no github-token or GITHUB_REPOSITORY: the ${kind} is in the job summary only, not on pull request #${issueNumber}.`);
      return undefined;
    }
    try {
      const author = await this.author(await octokit);
      const r = await upsertComment(await octokit, this.repo, issueNumber, commentMarker(kind, key), body, author);
      if (r.ignored.length) {
        core.warning(
          `pull request #${issueNumber} has ${r.ignored.length} comment(s) with this action's ${kind} marker written by someone other than ${author ?? 'this token'} (${[...new Set(r.ignored)].join(', ')}): left alone, not updated.`,
        );
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

/** This process's GitHub Actions run as a CiHost. */
export function githubHost(env: NodeJS.ProcessEnv = process.env): CiHost {
  // Read when the workflow first asks: an unreadable event payload fails the run like any other error.
  let context: RunContext | undefined;
  let comments: Comments | undefined;
  const sticky = () => (comments ??= new Comments(host.context, core.getInput('github-token')));
  const host: CiHost = {
    get context() {
      return (context ??= readRunContext(env));
    },
    settings: actionInputs,
    idToken: githubIdToken(env),
    // Plan and snapshot files hold live content: the job's own temp folder, else a private one.
    tempDir: env.RUNNER_TEMP || undefined,
    commentLimit: COMMENT_LIMIT,
    info: (line) => core.info(line),
    mask: (value) => core.setSecret(value),
    warning: (line) => core.warning(line),
    annotate: (findings, reserve) => void annotate(findings, reserve),
    setOutput: (name, value) => core.setOutput(name, value),
    async writeSummary(markdown) {
      if (!env.GITHUB_STEP_SUMMARY) return;
      try {
        await core.summary.addRaw(markdown).write();
      } catch (e) {
        core.warning(`could not write the job summary: ${(e as Error).message}`);
      }
    },
    setFailed: (message) => core.setFailed(message),
    upsertComment: (kind, key, issueNumber, body) => sticky().upsert(kind, key, issueNumber, body),
    mergedPullRequest: () => sticky().mergedPull(),
  };
  return host;
}
