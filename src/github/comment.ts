/**
 * The sticky pull-request comment: one per PR and per target, found again by a hidden marker on
 * its first line, updated in place on every run (never a comment per push). And the merged PR of
 * a commit, for the apply result.
 */
import type { getOctokit } from '@actions/github';

export type Octokit = ReturnType<typeof getOctokit>;

export interface Repo {
  owner: string;
  repo: string;
}

/** GitHub rejects issue comments over 65,536 characters; stay well below. */
export const COMMENT_LIMIT = 60_000;

/** The hidden first line that marks our comment, e.g. `<!-- apim-policy-deploy:plan:production -->`. */
export function commentMarker(kind: 'plan' | 'apply', key: string): string {
  // `--` would end the HTML comment early.
  const safe = key.replace(/-{2,}/g, '-').replace(/[<>\n]/g, ' ').trim() || 'default';
  return `<!-- apim-policy-deploy:${kind}:${safe} -->`;
}

export interface UpsertResult {
  id: number;
  url: string;
  created: boolean;
}

/**
 * Updates the comment whose body starts with `marker` (pages through every comment, 100 at a
 * time), else creates one. A comment that only quotes the marker is not ours.
 */
export async function upsertComment(octokit: Octokit, repo: Repo, issueNumber: number, marker: string, body: string): Promise<UpsertResult> {
  if (!body.startsWith(marker)) body = `${marker}\n${body}`;
  if (body.length > 65_536) throw new Error(`comment body is ${body.length} characters; GitHub accepts at most 65,536`);
  let existing: { id: number } | undefined;
  for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, { ...repo, issue_number: issueNumber, per_page: 100 })) {
    existing = page.data.find((c) => (c.body ?? '').startsWith(marker));
    if (existing) break;
  }
  if (existing) {
    const r = await octokit.rest.issues.updateComment({ ...repo, comment_id: existing.id, body });
    return { id: r.data.id, url: r.data.html_url, created: false };
  }
  const r = await octokit.rest.issues.createComment({ ...repo, issue_number: issueNumber, body });
  return { id: r.data.id, url: r.data.html_url, created: true };
}

export interface MergedPull {
  number: number;
  htmlUrl: string;
}

/**
 * The pull request a pushed commit came from: the one merged as exactly this commit, else a
 * merged one containing it, else none (a direct push).
 */
export async function pullRequestOfCommit(octokit: Octokit, repo: Repo, sha: string): Promise<MergedPull | undefined> {
  const r = await octokit.rest.repos.listPullRequestsAssociatedWithCommit({ ...repo, commit_sha: sha, per_page: 100 });
  const pulls = r.data;
  const pick = pulls.find((p) => p.merge_commit_sha === sha) ?? pulls.find((p) => !!p.merged_at);
  return pick ? { number: pick.number, htmlUrl: pick.html_url } : undefined;
}

/** A GitHub API failure explained: what failed and what to change in the workflow. */
export function explainGitHubError(what: string, e: unknown): string {
  const status = (e as { status?: number }).status;
  const message = (e as Error).message ?? String(e);
  if (status === 403 || status === 401) {
    return `${what}: GitHub answered ${status} (${message}). Give the job \`permissions: pull-requests: write\` (and pass \`github-token\` if you override it); a pull request from a fork gets a read-only token.`;
  }
  if (status === 404) return `${what}: GitHub answered 404 (${message}); check that github-token can see this repository.`;
  return `${what}: ${message}`;
}
