/**
 * Benchmarks (not tests): `npm run bench`. Issue 8 "Scale".
 *
 * 1. Offline plan of N policies: the CPU the plan pipeline costs in-process (load + parse +
 *    canonical form + diff of both trees), and the wall time of the bundled CLI beyond a bare `node`.
 * 2. Live, against the emulator in its own process with ARM's default throttling (reads 250 burst
 *    + 25/s, writes 200 + 10/s) and 20 ms latency, for 1,000 and 5,000 policies, each run in its own
 *    process as the product runs (`connect` from src/azure/connection.ts + `planLive` / `applyLive` from src/ci/plan-apply.ts):
 *    - full plan: wall time vs the read bucket's bound, reads, 429s, failed calls, peak RSS;
 *    - PR-scoped plan of 3 changed files (`planScoped`; the row is skipped if it is not exported);
 *    - apply of 50 changes (a fresh run with full buckets) vs the bucket bounds;
 *    - apply of 400 changes: past the write burst, so paced by the write bucket.
 *    Lower bound of a run = max(0, reads − 250) / 25 s for its reads, plus max(0, writes − 200) / 10 s
 *    for its writes (apply reads everything before its first write). "reads"/"writes" count every
 *    ARM request the emulator served (list pages, policy GETs, named values, backends, the service
 *    GET, PUTs); 429s are counted apart.
 * 3. Cold start of the bundled action (`dist/index.js`, built by this script into a temp dir) to its
 *    first ARM request, beside the floor: the same for a program that only logs in and makes one
 *    call with the same SDKs (scripts/bench/cold-floor.ts).
 * The live steps run as bundles built from src/ by this script (see `bundles`), under plain `node`.
 * 4. CPU of the canonical comparison over the shared corpus (../shared/corpus, read in place).
 * 5. A big diff: one policy rewritten in full (20,000 lines, about 120 KB, nothing in common), planned
 *    in-process and by the bundled CLI; the plan says "content replaced" instead of diffing
 *    (src/policy-xml/diff.ts, MAX_EDIT_LINES), and must take well under 15 s.
 *
 * 6. A fleet (scripts/bench-fleet.ts): 4 instances × 250 policies in one subscription, planned at once
 *    by 4 bundled CLI processes, with one principal and with four; wall time vs the bucket bound, 429s.
 *
 * Prints tables and, last, one JSON line for the 1,000-policy full plan.
 * `npm run bench -- fleet` runs only the fleet.
 * Environment: BENCH_SIZES="1000,5000" (live sizes), BENCH_SKIP="offline,live,apply400,cold,corpus,bigdiff,fleet"
 * (sections to leave out), BENCH_COLD_NODE_ARGS="--cpu-prof …" (node flags for the cold-start runs),
 * BENCH_WORKER=tsx (live steps from source), BENCH_DIST=<dir> (reuse bundles).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPolicyTree } from '../src/desired/load-tree.js';
import { computePlan } from '../src/plan/compute.js';
import { coldStart, type ColdStart } from './bench/cold-start.js';
import { corpusDiff } from './bench/corpus.js';
import { fleetBench } from './bench-fleet.js';
import { ROOT, TSX, countArm, startEmulatorProcess, type EmulatorProcess } from './bench/emulator.js';
import type { WorkerArgs, WorkerResult } from './bench/live-worker.js';
import { spread, writeTree } from './bench/trees.js';

const READ_BURST = 250;
const READ_RATE = 25;
const WRITE_BURST = 200;
const WRITE_RATE = 10;
const LATENCY_MS = 20;

const sizes = (process.env.BENCH_SIZES ?? '1000,5000')
  .split(',')
  .map(Number)
  .filter((n) => n > 0);
const skip = new Set(
  (process.env.BENCH_SKIP ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
// `npm run bench -- fleet`: the fleet alone.
if (process.argv.slice(2).includes('fleet')) for (const s of ['offline', 'bigdiff', 'live', 'apply400', 'cold', 'corpus']) skip.add(s);
const log = (s: string) => process.stderr.write(`[bench] ${s}\n`);

const readBoundMs = (reads: number) => (Math.max(0, reads - READ_BURST) / READ_RATE) * 1000;
const writeBoundMs = (writes: number) => (Math.max(0, writes - WRITE_BURST) / WRITE_RATE) * 1000;
const pct = (a: number, b: number) => (b ? `${((100 * a) / b).toFixed(2)} %` : '0 %');
const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * Bundles with ncc, from src/, into a temp dir (the repo's dist/ is left alone): the action (cold
 * start), the CLI (offline plan) and the live worker, so the plan runs as the product does, as one
 * bundle under plain `node` (BENCH_WORKER=tsx runs the worker from source instead; tsx and its
 * transpiled modules add about 90 MB of RSS). BENCH_DIST=<dir> reuses bundles built before.
 */
function bundles(): { action: string; floor: string; cli: string; worker: string | undefined; cleanup: () => void } {
  const dir = process.env.BENCH_DIST ?? mkdtempSync(join(tmpdir(), 'apim-bench-dist-'));
  const ncc = [join(ROOT, 'node_modules/@vercel/ncc/dist/ncc/cli.js'), 'build', '--quiet', '--target', 'es2022'];
  const build = (entry: string, out: string, needed: boolean) => {
    const js = join(dir, out, 'index.js');
    if (!needed || existsSync(js)) return js;
    log(`bundling ${entry} into ${join(dir, out)}`);
    execFileSync(process.execPath, [...ncc, entry, '-o', join(dir, out)], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    return js;
  };
  const tsxWorker = process.env.BENCH_WORKER === 'tsx';
  return {
    action: build('src/index.ts', '.', !skip.has('cold')),
    floor: build('scripts/bench/cold-floor.ts', 'floor', !skip.has('cold')),
    cli: build('src/cli.ts', 'cli', !skip.has('offline') || !skip.has('bigdiff') || !skip.has('fleet')),
    worker: tsxWorker ? undefined : build('scripts/bench/live-worker.ts', 'worker', !skip.has('live') || !skip.has('apply400')),
    cleanup: () => {
      if (!process.env.BENCH_DIST) rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ───────────────────────────── 1. offline plan ─────────────────────────────

async function offlinePlan(n: number, cliJs: string): Promise<Record<string, string | number>> {
  const work = mkdtempSync(join(tmpdir(), 'apim-bench-'));
  const desiredDir = join(work, 'desired');
  const liveDir = join(work, 'live');
  writeTree(desiredDir, n, 'author');
  writeTree(liveDir, n, 'apim', (i) => i % 20 === 0);

  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const desired = await loadPolicyTree(desiredDir);
  const live = await loadPolicyTree(liveDir);
  const plan = computePlan(desired, live, { source: { kind: 'snapshot', path: liveDir } });
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);

  const cliArgs = [cliJs, 'plan', '--policies', desiredDir, '--live-snapshot', liveDir, '--format', 'json', '--out', join(work, 'plan.json')];
  const baseline = timed(() => spawnSync(process.execPath, ['-e', '0']));
  const cli = timed(() => spawnSync(process.execPath, cliArgs, { stdio: 'ignore' }));
  const cliCpu = childCpuMs(cliArgs);
  const nodeCpu = childCpuMs(['-e', '0']);
  rmSync(work, { recursive: true, force: true });
  return {
    policies: n,
    updates: plan.summary.update,
    unchanged: plan.summary.unchanged,
    'plan CPU ms (in-process)': Math.round((cpu.user + cpu.system) / 1000),
    'plan wall ms (in-process)': Math.round(wallMs),
    'CLI wall ms': Math.round(cli),
    'node start ms': Math.round(baseline),
    'CLI beyond node start ms': Math.round(cli - baseline),
    'CLI CPU beyond node start ms': cliCpu === undefined || nodeCpu === undefined ? 'n/a' : cliCpu - nodeCpu,
  };
}

/** User + system CPU of a child `node` process, from GNU time (undefined where it is not installed). */
function childCpuMs(args: string[]): number | undefined {
  const r = spawnSync('/usr/bin/time', ['-f', '%U %S', process.execPath, ...args], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  const m = /([\d.]+) ([\d.]+)\s*$/.exec(r.stderr ?? '');
  return r.status === 0 && m ? Math.round((Number(m[1]) + Number(m[2])) * 1000) : undefined;
}

function timed(fn: () => unknown, runs = 3): number {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)]!;
}

// ───────────────────────────── 5. big diff ─────────────────────────────

/** A policy of `total` lines: a set-body of numbered lines, `tag` making each side's lines its own. */
function bigPolicy(total: number, tag: string): string {
  const body = Array.from({ length: total - 14 }, (_, i) => `${tag}${i}`).join('\n');
  return `<policies>\n    <inbound>\n        <base />\n        <set-body>${body}</set-body>\n    </inbound>\n    <backend>\n        <base />\n    </backend>\n    <outbound>\n        <base />\n    </outbound>\n    <on-error>\n        <base />\n    </on-error>\n</policies>\n`;
}

async function bigDiff(cliJs: string): Promise<Record<string, string | number>> {
  const work = mkdtempSync(join(tmpdir(), 'apim-bench-bigdiff-'));
  const text = { desired: bigPolicy(20000, 'n'), live: bigPolicy(20000, 'o') };
  for (const side of ['desired', 'live'] as const) {
    mkdirSync(join(work, side, 'apis', 'big'), { recursive: true });
    writeFileSync(join(work, side, 'apis', 'big', 'policy.xml'), text[side]);
  }
  const t0 = performance.now();
  const plan = computePlan(await loadPolicyTree(join(work, 'desired')), await loadPolicyTree(join(work, 'live')), { source: { kind: 'snapshot', path: join(work, 'live') } });
  const wallMs = performance.now() - t0;
  const cliArgs = [cliJs, 'plan', '--policies', join(work, 'desired'), '--live-snapshot', join(work, 'live'), '--format', 'markdown'];
  const cli = timed(() => spawnSync(process.execPath, cliArgs, { stdio: 'ignore' }), 1);
  rmSync(work, { recursive: true, force: true });
  const change = plan.changes.find((c) => c.address === 'apis/big/policies/policy');
  return {
    'lines (desired / live)': '20,000 / 20,000',
    KB: Math.round(Buffer.byteLength(text.desired) / 1024),
    'plan wall ms (in-process)': Math.round(wallMs),
    'CLI wall ms (markdown)': Math.round(cli),
    shown: change?.replaced ? `content replaced: ${change.replaced.before} → ${change.replaced.after} lines` : `a diff of +${change?.added} −${change?.removed}`,
  };
}

// ───────────────────────────── 2. live ─────────────────────────────

/** Runs one product step in its own process with the emulator's environment. */
function worker(emu: EmulatorProcess, args: Omit<WorkerArgs, 'target'>): Promise<WorkerResult> {
  const { armEndpoint, subscriptionId, resourceGroup, serviceName, tenantId, clientId } = emu.ready;
  const full: WorkerArgs = { ...args, target: { armEndpoint, subscriptionId, resourceGroup, serviceName, tenantId, clientId } };
  const [cmd, script] = dist.worker ? [process.execPath, dist.worker] : [TSX, join(ROOT, 'scripts/bench/live-worker.ts')];
  const child = spawn(cmd, [script, JSON.stringify(full)], {
    cwd: ROOT,
    env: { ...process.env, ...emu.ready.env, GITHUB_ACTIONS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
  return new Promise((resolve, reject) =>
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as WorkerResult);
      } catch {
        reject(new Error(`worker ${args.mode} exited ${code} without a result:\n${out}\n${err}`));
      }
    }),
  );
}

interface Measured {
  result: WorkerResult;
  counts: ReturnType<typeof countArm>;
  boundMs: number;
}

/** A worker run with the emulator's request log around it. */
async function measured(emu: EmulatorProcess, args: Omit<WorkerArgs, 'target'>): Promise<Measured> {
  const before = (await emu.log()).length;
  const result = await worker(emu, args);
  const counts = countArm((await emu.log()).slice(before));
  return { result, counts, boundMs: readBoundMs(counts.reads) + writeBoundMs(counts.writes) };
}

interface SizeRun {
  n: number;
  plan: Measured;
  scoped?: Measured;
  apply: Measured;
}

async function liveRun(n: number, withScoped: boolean): Promise<SizeRun> {
  const work = mkdtempSync(join(tmpdir(), 'apim-bench-live-'));
  const seed = join(work, 'seed');
  const desired = join(work, 'desired');
  const changed = spread(n, 50);
  writeTree(seed, n, 'author');
  writeTree(desired, n, 'author', (i) => changed.has(i));
  log(`${n} policies: starting the emulator (--throttle --latency-ms ${LATENCY_MS})`);
  const emu = await startEmulatorProcess({ seedDir: seed, latencyMs: LATENCY_MS, throttle: true });
  try {
    const planFile = join(work, 'plan.json');
    log(`${n} policies: full plan (bound ≈ ${Math.round(readBoundMs(n) / 1000)} s)`);
    const plan = await measured(emu, { mode: 'plan', policies: desired, planFile });
    log(`${n} policies: plan ${plan.result.wallMs} ms, ${JSON.stringify(plan.counts)}`);
    let scoped: Measured | undefined;
    if (withScoped) {
      // A pull request that changes 3 files: its base is the desired tree without 3 of its changes.
      const baseDir = join(work, 'base');
      const three = new Set([...changed].slice(0, 3));
      writeTree(baseDir, n, 'author', (i) => changed.has(i) && !three.has(i));
      await emu.refillBuckets();
      log(`${n} policies: PR-scoped plan of 3 changed files`);
      scoped = await measured(emu, { mode: 'scoped', policies: desired, base: baseDir, planFile: join(work, 'scoped.json') });
    }
    await emu.refillBuckets();
    log(`${n} policies: apply of the plan's ${changed.size} changes`);
    const apply = await measured(emu, { mode: 'apply', planFile });
    log(`${n} policies: apply ${apply.result.wallMs} ms, ${JSON.stringify(apply.counts)}`);
    return { n, plan, ...(scoped ? { scoped } : {}), apply };
  } finally {
    await emu.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Apply of k changes, past the write burst: k reads (drift check), then k writes. */
async function applyK(k: number): Promise<Measured> {
  const work = mkdtempSync(join(tmpdir(), 'apim-bench-apply-'));
  const seed = join(work, 'seed');
  const desired = join(work, 'desired');
  writeTree(seed, k, 'author');
  writeTree(desired, k, 'author', () => true);
  const emu = await startEmulatorProcess({ seedDir: seed, latencyMs: LATENCY_MS, throttle: true });
  try {
    const planFile = join(work, 'plan.json');
    await worker(emu, { mode: 'plan', policies: desired, planFile });
    await emu.refillBuckets();
    log(`apply of ${k} changes (bound ≈ ${Math.round((readBoundMs(k) + writeBoundMs(k)) / 1000)} s)`);
    return await measured(emu, { mode: 'apply', planFile });
  } finally {
    await emu.close();
    rmSync(work, { recursive: true, force: true });
  }
}

// ───────────────────────────── main ─────────────────────────────

const dist = bundles();
try {
  if (!skip.has('offline')) {
    const rows = [];
    for (const n of [1000, 5000]) rows.push(await offlinePlan(n, dist.cli));
    console.log('\nOffline plan (tree vs snapshot folder)');
    console.table(rows);
  }

  if (!skip.has('bigdiff')) {
    log('big diff: one policy of 20,000 lines rewritten in full');
    console.log('\nA big diff: one policy rewritten in full (nothing in common), plan of the two trees');
    console.table([await bigDiff(dist.cli)]);
  }

  const runs: SizeRun[] = [];
  if (!skip.has('live')) for (const [i, n] of sizes.entries()) runs.push(await liveRun(n, i === 0));
  const k400 = skip.has('apply400') ? undefined : await applyK(400);

  const cold = skip.has('cold')
    ? undefined
    : (log('cold start of the bundled action, and of the floor (the SDKs alone)'), await coldStart({ action: dist.action, floor: dist.floor }, { latencyMs: LATENCY_MS }));
  const corpus = skip.has('corpus') ? undefined : (log('canonical diff over the corpus'), corpusDiff());

  const failedOf = (m: Measured) => (m.result.stats?.failed ?? 0) + (m.result.error ? 1 : 0);
  const throttledOf = (m: Measured) => m.counts.throttled;
  const ratioOf = (m: Measured) => (m.boundMs > 0 ? m.result.wallMs / m.boundMs : NaN);

  if (runs.length || k400)
    console.log(
      `\nLive, against the emulator: ARM default throttling (reads ${READ_BURST} + ${READ_RATE}/s, writes ${WRITE_BURST} + ${WRITE_RATE}/s), ${LATENCY_MS} ms latency.` +
        `\nbound = max(0, reads − ${READ_BURST}) / ${READ_RATE} s + max(0, writes − ${WRITE_BURST}) / ${WRITE_RATE} s, counting every ARM read/write the emulator served` +
        `\n(list pages, one GET per policy, named values, backends, the service GET; apply: one GET per change, then the PUTs); 429s apart.` +
        `\nwall = connect + planLive (or applyLive) in a fresh process (${dist.worker ? 'bundled, plain node' : 'tsx'}), token included; the desired tree is loaded before (load ms).`,
    );
  const table: Record<string, Record<string, string>> = {};
  const col = (name: string, m: Measured | undefined, extra: Record<string, string> = {}) => {
    if (!m) return;
    const s = m.result;
    table[name] = {
      'wall ms': s.skipped ? `skipped: ${s.skipped}` : fmt(s.wallMs),
      'bound ms': fmt(Math.round(m.boundMs)),
      ratio: Number.isFinite(ratioOf(m)) ? ratioOf(m).toFixed(3) : 'n/a (within the burst)',
      'ARM reads': fmt(m.counts.reads),
      'ARM writes': fmt(m.counts.writes),
      '429s': `${throttledOf(m)} (${pct(throttledOf(m), m.counts.requests)})`,
      'failed calls': String(failedOf(m)) + (s.error ? ` (${s.error.split('\n')[0]})` : ''),
      'retries': String(s.stats?.retries ?? 0),
      'peak RSS MB': String(s.maxRssMB),
      'CPU ms': fmt(s.cpuMs),
      ...extra,
    };
  };
  for (const r of runs) {
    col(`full plan ${fmt(r.n)}`, r.plan, { 'load ms': fmt(r.plan.result.loadMs ?? 0), summary: JSON.stringify(r.plan.result.summary) });
    if (r.scoped) col(`PR-scoped plan (3 files) of ${fmt(r.n)}`, r.scoped, r.scoped.result.skipped ? { 'wall ms': `skipped (${r.scoped.result.skipped})` } : {});
    col(`apply 50 (instance of ${fmt(r.n)})`, r.apply, { summary: `${r.apply.result.applied ?? 0} applied, ok=${r.apply.result.ok}` });
  }
  col('apply 400 (past the write burst)', k400, {
    summary: k400 ? `${k400.result.applied ?? 0} applied, ok=${k400.result.ok}; bound = ${fmt(readBoundMs(k400.counts.reads))} read + ${fmt(writeBoundMs(k400.counts.writes))} write` : '',
  });
  if (runs.length || k400) console.table(table);

  if (cold) {
    console.log(
      `\nCold start to the first ARM request (GitHub OIDC token + Entra metadata + token exchange included, ${LATENCY_MS} ms latency each; median of ${cold.action.runs}, runs taking turns).` +
        `\nfloor = scripts/bench/cold-floor.ts, bundled the same way: @actions/core inputs, OIDC login with @azure/identity, one @azure/arm-apimanagement call; nothing else.`,
    );
    const row = (c: ColdStart) => ({ 'median ms': c.medianMs, 'min ms': c.minMs, 'max ms': c.maxMs, 'bare node start+exit ms': c.bareNodeMs, 'exit codes': c.exitCodes.join(',') });
    console.table({ 'the action (dist/index.js)': row(cold.action), 'floor: the SDKs alone': row(cold.floor) });
  }
  if (corpus) {
    console.log('\nCanonical comparison over the shared corpus (parse both sides + canonical form + compare + unified diff; CPU, in-process)');
    console.table([
      {
        files: corpus.files,
        compared: corpus.compared,
        'rejected (broken on purpose)': corpus.rejected,
        differing: corpus.differing,
        KiB: Math.round(corpus.bytes / 1024),
        'first pass CPU ms': corpus.firstPassCpuMs,
        'warm pass CPU ms (median)': corpus.warmCpuMs,
        'µs per file (warm)': Math.round((corpus.warmCpuMs * 1000) / corpus.compared),
      },
    ]);
  }

  if (!skip.has('fleet')) await fleetBench(dist.cli);

  const first = runs.find((r) => r.n === 1000) ?? runs[0];
  if (first) {
    const p = first.plan;
    console.log(
      JSON.stringify({
        scopes: first.n,
        reads: p.counts.reads,
        writes: p.counts.writes,
        throttled: p.counts.throttled,
        failed: failedOf(p),
        wallMs: p.result.wallMs,
        lowerBoundMs: Math.round(p.boundMs),
        ratio: Number(ratioOf(p).toFixed(3)),
      }),
    );
  }
} finally {
  dist.cleanup();
}
