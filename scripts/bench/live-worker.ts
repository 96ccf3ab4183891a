/**
 * One product run against the emulator, in its own process (started by scripts/bench.ts with the
 * emulator's `ready.env`, so NODE_EXTRA_CA_CERTS is in place from the start): a full plan
 * (`connect` + `planLive`, as the CLI and the action do it), an apply of a saved plan (`applyLive`),
 * or a PR-scoped plan (`planScoped` with the base tree, when src/ci/plan-apply.ts exports it). Prints one JSON line: timings, the scheduler's counters,
 * CPU and peak RSS of this process.
 *
 *   tsx scripts/bench/live-worker.ts '{"mode":"plan","policies":DIR,"planFile":FILE,"target":{…}}'
 */
import { dirname, join } from 'node:path';
import type { TargetSettings } from '../../src/azure/target.js';
import { loadDesiredTree } from '../../src/desired/load-desired.js';
import { githubIdToken } from '../../src/github/id-token.js';
import { readPlanFile, writePlanFile } from '../../src/ci/plan-file.js';
import * as connection from '../../src/azure/connection.js';
import * as planApply from '../../src/ci/plan-apply.js';

const live = { ...connection, ...planApply };

export interface WorkerArgs {
  mode: 'plan' | 'apply' | 'scoped';
  policies?: string;
  planFile: string;
  /** Scoped plan: the tree at the pull request's base (`policies` is its head). */
  base?: string;
  target: TargetSettings;
}

export interface WorkerResult {
  mode: WorkerArgs['mode'];
  /** Wall time of the measured step (plan: connect + planLive; apply: connect + applyLive). */
  wallMs: number;
  /** Loading the desired tree before the plan (not part of wallMs). */
  loadMs?: number;
  summary?: unknown;
  ok?: boolean;
  applied?: number;
  error?: string;
  skipped?: string;
  stats?: ReturnType<connection.LiveConnection['session']['scheduler']['stats']>;
  cpuMs: number;
  maxRssMB: number;
}

const args = JSON.parse(process.argv[2]!) as WorkerArgs;
const words: TargetSettings = { ...args.target, auth: 'oidc' };

async function main(): Promise<WorkerResult> {
  const cpu0 = process.cpuUsage();
  const base = () => {
    const cpu = process.cpuUsage(cpu0);
    return { cpuMs: Math.round((cpu.user + cpu.system) / 1000), maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024) };
  };
  if (args.mode === 'plan' || args.mode === 'scoped') {
    const l0 = performance.now();
    const desired = await loadDesiredTree(args.policies!);
    const loadMs = Math.round(performance.now() - l0);
    if (args.mode === 'scoped') {
      // ─── PR-scoped plan (issue 8 asks for it; the feature itself is built separately) ───
      // Skipped when src/ci/plan-apply.ts does not export `planScoped(conn, head, base, options)`.
      const planScoped = (live as Record<string, unknown>).planScoped as
        ((conn: connection.LiveConnection, desired: unknown, base: unknown, options: { baseLabel?: string }) => Promise<{ summary: unknown; scoped?: unknown }>) | undefined;
      if (typeof planScoped !== 'function') return { mode: args.mode, wallMs: 0, loadMs, skipped: 'planScoped is not exported from src/ci/plan-apply.ts', ...base() };
      const baseTree = await loadDesiredTree(args.base!);
      const t0 = performance.now();
      const conn = await live.connect(words, undefined, githubIdToken());
      try {
        const plan = await planScoped(conn, desired, baseTree, { baseLabel: args.base! });
        return { mode: args.mode, wallMs: Math.round(performance.now() - t0), loadMs, summary: plan.summary, stats: conn.session.scheduler.stats(), ...base() };
      } catch (e) {
        return { mode: args.mode, wallMs: Math.round(performance.now() - t0), loadMs, error: `planScoped failed: ${(e as Error).message}`, stats: conn.session.scheduler.stats(), ...base() };
      }
      // ─── end of PR-scoped plan ───
    }
    const t0 = performance.now();
    const conn = await live.connect(words, undefined, githubIdToken());
    const plan = await live.planLive(conn, desired);
    const wallMs = Math.round(performance.now() - t0);
    const result: WorkerResult = { mode: args.mode, wallMs, loadMs, summary: plan.summary, stats: conn.session.scheduler.stats(), ...base() };
    await writePlanFile(args.planFile, plan);
    return result;
  }
  const plan = await readPlanFile(args.planFile);
  const t0 = performance.now();
  const conn = await live.connect(words, undefined, githubIdToken());
  const r = await live.applyLive(conn, plan, { allowDeletes: false, snapshotFile: join(dirname(args.planFile), `snapshot-${process.pid}.json`) });
  const wallMs = Math.round(performance.now() - t0);
  return { mode: args.mode, wallMs, ok: r.ok, applied: r.applied.length, ...(r.error ? { error: r.error } : {}), stats: conn.session.scheduler.stats(), ...base() };
}

main().then(
  (r) => {
    process.stdout.write(JSON.stringify(r) + '\n');
  },
  (e: unknown) => {
    process.stdout.write(JSON.stringify({ mode: args.mode, wallMs: 0, error: (e as Error).stack ?? String(e), cpuMs: 0, maxRssMB: 0 }) + '\n');
    process.exitCode = 1;
  },
);
