/**
 * What the runner tells the action about the run: the event, the repository, the pull request
 * (and whether it comes from a fork), and links back to the run. Read from the environment and
 * the event payload the runner writes to `GITHUB_EVENT_PATH`.
 */
import { readFileSync } from 'node:fs';
import type { RunContext } from '../model/ci-host.js';

function readPayload(path: string | undefined): any {
  if (!path) return {};
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`GITHUB_EVENT_PATH ${path}: cannot read the event payload (${(e as Error).message})`);
  }
}

export function readRunContext(env: NodeJS.ProcessEnv = process.env): RunContext {
  const eventName = env.GITHUB_EVENT_NAME ?? '';
  const payload = readPayload(env.GITHUB_EVENT_PATH);
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? payload.repository?.full_name ?? '').split('/');
  const ctx: RunContext = { eventName };
  if (owner && repo) Object.assign(ctx, { owner, repo });
  if (env.GITHUB_SHA) ctx.sha = env.GITHUB_SHA;
  if (env.GITHUB_REF) ctx.ref = env.GITHUB_REF;
  const defaultBranch = payload.repository?.default_branch;
  if (typeof defaultBranch === 'string') ctx.defaultBranch = defaultBranch;

  const pr = payload.pull_request;
  if (pr && typeof pr.number === 'number') {
    const headRepo: string | undefined = pr.head?.repo?.full_name;
    const baseRepo: string | undefined = pr.base?.repo?.full_name ?? payload.repository?.full_name;
    ctx.pullRequest = {
      number: pr.number,
      headSha: pr.head?.sha,
      headRepo,
      baseRepo,
      // A deleted fork leaves head.repo null: treat it as a fork too.
      fromFork: !headRepo || !baseRepo || headRepo.toLowerCase() !== baseRepo.toLowerCase(),
      htmlUrl: pr.html_url,
    };
  }
  const server = (env.GITHUB_SERVER_URL ?? 'https://github.com').replace(/\/+$/, '');
  if (owner && repo && env.GITHUB_RUN_ID) {
    const attempt = Number(env.GITHUB_RUN_ATTEMPT ?? 1);
    ctx.runUrl = `${server}/${owner}/${repo}/actions/runs/${env.GITHUB_RUN_ID}${attempt > 1 ? `/attempts/${attempt}` : ''}`;
  }
  return ctx;
}
