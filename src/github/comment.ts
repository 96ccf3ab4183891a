/**
 * The sticky pull-request comment: one per PR and per target, found again by a hidden marker on
 * its first line and by its author, updated in place on every run (never a comment per push). And
 * the merged PR of a commit, for the apply result.
 *
 * Anyone can post a comment that starts with our marker; only one written by the identity of our
 * own token is ours to update (else a reviewer could plant a comment, let the bot fill it with the
 * plan, and edit it afterwards, or keep the real plan from ever being posted).
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
  const safe =
    key
      .replace(/-{2,}/g, '-')
      .replace(/[<>\n]/g, ' ')
      .trim() || 'default';
  return `<!-- apim-policy-deploy:${kind}:${safe} -->`;
}

export interface UpsertResult {
  id: number;
  url: string;
  created: boolean;
  /** Logins of other people's comments that carry our marker: left alone. */
  ignored: string[];
}

/**
 * Who the token acts as, e.g. `github-actions[bot]` for the runner's GITHUB_TOKEN, `octocat` for
 * a personal access token, `<app-slug>[bot]` for an app's installation token. GraphQL `viewer`
 * names users and apps' bots alike; REST `GET /user` answers 403 to installation tokens, so it
 * is only asked when GraphQL does not answer. `login` undefined when neither says (`why` does).
 */
export async function tokenLogin(octokit: Octokit): Promise<{ login?: string; why?: string }> {
  let why: string;
  try {
    const r = await octokit.graphql<{ viewer?: { login?: string } }>('query { viewer { login } }');
    if (r?.viewer?.login) return { login: r.viewer.login };
    why = 'GraphQL viewer gave no login';
  } catch (e) {
    why = `GraphQL viewer: ${(e as Error).message}`;
  }
  try {
    const r = await octokit.rest.users.getAuthenticated();
    if (r.data.login) return { login: r.data.login };
  } catch (e) {
    why += `; GET /user: ${(e as Error).message}`;
  }
  return { why };
}

/**
 * Whether a comment was written by `login`. GraphQL may name an app's bot without the `[bot]`
 * that REST shows on its comments, so `github-actions` also matches the Bot `github-actions[bot]`.
 */
export function writtenBy(user: { login?: string; type?: string } | null | undefined, login: string): boolean {
  const author = (user?.login ?? '').toLowerCase();
  const me = login.toLowerCase();
  return author !== '' && (author === me || (user?.type === 'Bot' && author === `${me}[bot]`));
}

/**
 * Updates the comment that `author` wrote and whose body starts with `marker` (pages through every
 * comment, 100 at a time), else creates one. A comment that only quotes the marker is not ours, nor
 * one by anyone else; with no `author` known, no comment is taken for ours.
 */
export async function upsertComment(octokit: Octokit, repo: Repo, issueNumber: number, marker: string, body: string, author: string | undefined): Promise<UpsertResult> {
  if (!body.startsWith(marker)) body = `${marker}\n${body}`;
  if (body.length > 65_536) throw new Error(`comment body is ${body.length} characters; GitHub accepts at most 65,536`);
  let existing: { id: number } | undefined;
  const ignored: string[] = [];
  for await (const page of octokit.paginate.iterator(octokit.rest.issues.listComments, { ...repo, issue_number: issueNumber, per_page: 100 })) {
    for (const c of page.data) {
      if (!(c.body ?? '').startsWith(marker)) continue;
      if (author !== undefined && writtenBy(c.user, author)) {
        existing = c;
        break;
      }
      ignored.push(c.user?.login ?? '(unknown)');
    }
    if (existing) break;
  }
  if (existing) {
    const r = await octokit.rest.issues.updateComment({ ...repo, comment_id: existing.id, body });
    return { id: r.data.id, url: r.data.html_url, created: false, ignored };
  }
  const r = await octokit.rest.issues.createComment({ ...repo, issue_number: issueNumber, body });
  return { id: r.data.id, url: r.data.html_url, created: true, ignored };
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
