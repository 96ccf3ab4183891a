/**
 * What an apply says while it runs, the same for the CLI and the action: where the snapshot of what
 * it changes is kept, and a line per write and per restore (a terminal's aligned columns, or a CI
 * log's plain lines).
 */
import { join } from 'node:path';
import type { ApplyEvent } from '../plan/apply.js';
import { privateTempDir } from '../plan/private-file.js';
import { changeLabel } from '../render/labels.js';

/**
 * Where an apply keeps its snapshot: a new file per run, never inside the policies tree — in the
 * job's own temp folder in CI (RUNNER_TEMP), else in a new folder only this user can enter.
 */
export async function snapshotFilePath(serviceName: string, tempDir: string | undefined, now = new Date()): Promise<string> {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  return join(tempDir || (await privateTempDir()), `apim-policy-snapshot-${serviceName}-${stamp}.json`);
}

/** The line an apply event prints, if any: `terminal` for the CLI's output, `log` for a CI host's log. */
export function applyEventLine(e: ApplyEvent, style: 'terminal' | 'log'): string | undefined {
  if (e.type === 'snapshot') return `Snapshot of what this apply changes, as it was before: ${e.file}`;
  if (e.type === 'waiting') {
    const line = `${e.change.address}: Key Vault refused its secret; a role this apply granted can take minutes to reach Key Vault, so it is written again in ${e.seconds} s (waited ${e.waited} of at most ${e.budget} s, APIM_POLICY_RBAC_WAIT_SECONDS)`;
    return style === 'log' ? `wait ${line}` : `  wait   ${line}`;
  }
  if (style === 'log') {
    if (e.type === 'written') return `${e.change.action} ${changeLabel(e.change)}: done`;
    if (e.type === 'restore') return `restore ${e.address}: ${e.ok ? 'done' : e.message}`;
    return undefined;
  }
  if (e.type === 'written') return `  ${e.change.action.padEnd(6)} ${changeLabel(e.change)} … done`;
  if (e.type === 'restore') return `  restore ${e.address} … ${e.ok ? 'done' : 'FAILED'}`;
  return undefined;
}
