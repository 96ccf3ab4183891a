/**
 * Fleet benchmark (issue 15): 4 APIM instances × 250 policies in one subscription of one emulator
 * (its own process, ARM's default buckets, 20 ms latency), planned at once by 4 processes of the
 * bundled CLI. Two variants:
 * - one principal: the 4 plans share one principal's read bucket (250 + 25/s);
 * - four principals: each plan its own app (client ID), so its own bucket; the subscription's global
 *   bucket (15×: 3,750 + 375/s) is shared.
 * Lower bound of a variant: for each principal, max(0, its reads − 250) / 25 s; for the subscription,
 * max(0, all reads − 3,750) / 375 s; the largest of these (writes alike, 200 + 10/s; a plan's writes
 * are its `listValue` POSTs). Reads/writes count what the emulator served; 429s and failures apart.
 * `npm run bench -- fleet` runs only this; `BENCH_SKIP=fleet` leaves it out of `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RequestLogEntry } from '../src/emulator/server.js';
import { ROOT, isArm, isRead, startEmulatorProcess, type EmulatorProcess } from './bench/emulator.js';
import { writeTree } from './bench/trees.js';

const INSTANCES = 4;
const POLICIES = 250;
const LATENCY_MS = 20;
const B = { readBurst: 250, readRate: 25, writeBurst: 200, writeRate: 10, global: 15 };
const CLIENTS = Array.from({ length: INSTANCES - 1 }, (_, i) => `00000000-0000-4000-8000-0000000f1ee${i + 1}`);

const log = (s: string) => process.stderr.write(`[bench fleet] ${s}\n`);
const fmt = (n: number) => n.toLocaleString('en-US');

export interface FleetRow {
  variant: string;
  wallMs: number;
  boundMs: number;
  reads: number;
  writes: number;
  throttled: number;
  failedRequests: number;
  failedRuns: number;
  exitCodes: number[];
}

function planProcess(cliJs: string, emu: EmulatorProcess, desired: string, service: string, clientId: string): Promise<{ code: number; stderr: string }> {
  const r = emu.ready;
  const args = [cliJs, 'plan', '--policies', desired, '--detailed-exitcode', '--arm-endpoint', r.armEndpoint, '--subscription-id', r.subscriptionId, '--resource-group', r.resourceGroup];
  args.push('--service-name', service, '--tenant-id', r.tenantId, '--client-id', clientId);
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, ...r.env, GITHUB_ACTIONS: '', NO_COLOR: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code: code ?? -1, stderr })));
}

/** The bound of a slice of the log: the slowest principal's bucket, or the subscription's global one. */
function boundOf(entries: RequestLogEntry[]): number {
  const served = entries.filter((e) => isArm(e) && e.status !== 429 && e.status !== 0 && e.status < 500);
  const byPrincipal = new Map<string, { reads: number; writes: number }>();
  for (const e of served) {
    const p = byPrincipal.get(e.principal ?? '') ?? { reads: 0, writes: 0 };
    if (isRead(e)) p.reads++;
    else p.writes++;
    byPrincipal.set(e.principal ?? '', p);
  }
  const over = (n: number, burst: number, rate: number) => (Math.max(0, n - burst) / rate) * 1000;
  let bound = 0;
  let reads = 0;
  let writes = 0;
  for (const p of byPrincipal.values()) {
    reads += p.reads;
    writes += p.writes;
    bound = Math.max(bound, over(p.reads, B.readBurst, B.readRate), over(p.writes, B.writeBurst, B.writeRate));
  }
  return Math.max(bound, over(reads, B.readBurst * B.global, B.readRate * B.global), over(writes, B.writeBurst * B.global, B.writeRate * B.global));
}

async function variant(cliJs: string, emu: EmulatorProcess, desired: string, principals: string[], name: string): Promise<FleetRow> {
  await emu.refillBuckets();
  const before = (await emu.log()).length;
  log(`${name}: ${INSTANCES} plans of ${POLICIES} policies at once`);
  const t0 = performance.now();
  const runs = await Promise.all(Array.from({ length: INSTANCES }, (_, i) => planProcess(cliJs, emu, desired, `apim-fleet-${i + 1}`, principals[i % principals.length]!)));
  const wallMs = Math.round(performance.now() - t0);
  const entries = (await emu.log()).slice(before).filter(isArm);
  const served = entries.filter((e) => e.status !== 429 && e.status !== 0 && e.status < 500);
  const failedRuns = runs.filter((r) => r.code !== 0 && r.code !== 2);
  for (const r of failedRuns) log(`${name}: a plan exited ${r.code}: ${r.stderr.split('\n').slice(0, 3).join(' | ')}`);
  return {
    variant: name,
    wallMs,
    boundMs: Math.round(boundOf(entries)),
    reads: served.filter(isRead).length,
    writes: served.filter((e) => !isRead(e)).length,
    throttled: entries.filter((e) => e.status === 429).length,
    failedRequests: entries.filter((e) => e.status === 0 || e.status >= 500).length,
    failedRuns: failedRuns.length,
    exitCodes: runs.map((r) => r.code),
  };
}

/** Runs both variants with the bundled CLI at `cliJs`; prints a table; returns the rows. */
export async function fleetBench(cliJs: string): Promise<FleetRow[]> {
  const work = mkdtempSync(join(tmpdir(), 'apim-bench-fleet-'));
  try {
    const desired = join(work, 'desired');
    writeTree(desired, POLICIES, 'author');
    const args: string[] = ['--throttle'];
    for (let i = 1; i <= INSTANCES; i++) {
      const seed = join(work, `seed-${i}`);
      writeTree(seed, POLICIES, 'apim');
      args.push('--service', `apim-fleet-${i}=${seed}`);
    }
    for (const c of CLIENTS) args.push('--client', c);
    log(`starting the emulator: ${INSTANCES} services × ${POLICIES} policies, --throttle, ${LATENCY_MS} ms latency`);
    const emu = await startEmulatorProcess({ latencyMs: LATENCY_MS, throttle: true, args });
    try {
      const rows = [await variant(cliJs, emu, desired, [emu.ready.clientId], 'one principal'), await variant(cliJs, emu, desired, [emu.ready.clientId, ...CLIENTS], `${INSTANCES} principals`)];
      console.log(
        `\nFleet: ${INSTANCES} instances × ${POLICIES} policies in one subscription, planned at once by ${INSTANCES} bundled CLI processes; ARM's buckets per principal` +
          ` (reads ${B.readBurst} + ${B.readRate}/s, writes ${B.writeBurst} + ${B.writeRate}/s) and ${B.global}× for the subscription, ${LATENCY_MS} ms latency.` +
          `\nbound = the largest of max(0, a principal's reads − ${B.readBurst}) / ${B.readRate} s and max(0, all reads − ${fmt(B.readBurst * B.global)}) / ${B.readRate * B.global} s (writes alike);` +
          `\n429s and failures from the emulator's request log; failed runs = CLI exit codes other than 0/2.`,
      );
      console.table(
        Object.fromEntries(
          rows.map((r) => [
            r.variant,
            {
              'wall ms': fmt(r.wallMs),
              'bound ms': fmt(r.boundMs),
              ratio: r.boundMs > 0 ? (r.wallMs / r.boundMs).toFixed(3) : 'n/a (within the burst)',
              'ARM reads': fmt(r.reads),
              'ARM writes': fmt(r.writes),
              '429s': String(r.throttled),
              'failed requests': String(r.failedRequests),
              'failed runs': String(r.failedRuns),
              'exit codes': r.exitCodes.join(','),
            },
          ]),
        ),
      );
      return rows;
    } finally {
      await emu.close();
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
