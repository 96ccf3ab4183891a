/**
 * Which part of the workflow a run does. `auto`: pull requests plan, pushes to the default branch
 * apply, scheduled and manual runs look for drift.
 */
import type { RunContext } from '../model/ci-host.js';
import type { ModeSetting } from './settings.js';

export type Mode = Exclude<ModeSetting, 'auto'>;

/** True for a push to the repository's default branch (`refs/heads/<default>`). */
export function isPushToDefaultBranch(ctx: RunContext): boolean {
  if (ctx.eventName !== 'push' || !ctx.ref) return false;
  const branch = ctx.defaultBranch ?? 'main';
  return ctx.ref === `refs/heads/${branch}`;
}

/** The mode of this run; `say` hears why an `auto` run does not do what one might expect. */
export function resolveMode(setting: ModeSetting, ctx: RunContext, say: { info(line: string): void; warning(line: string): void }): Mode {
  if (setting !== 'auto') return setting;
  if (ctx.eventName === 'push') {
    if (isPushToDefaultBranch(ctx)) return 'apply';
    say.info(`mode auto: ${ctx.ref ?? 'this push'} is not the default branch (${ctx.defaultBranch ?? 'main'}), so this run plans and does not apply.`);
    return 'plan';
  }
  if (ctx.eventName === 'schedule' || ctx.eventName === 'workflow_dispatch') return 'drift';
  if (ctx.eventName === 'pull_request_target') {
    say.warning("pull_request_target runs with a write token and secrets: plan on `pull_request` instead, and never check out the pull request's code in a pull_request_target job.");
  }
  return 'plan';
}
