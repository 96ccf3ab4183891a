/**
 * A fleet: three APIM services in one subscription of one emulator, planned at once by three
 * bundled CLI processes, two principals, with small token buckets whose global (subscription)
 * bucket is the binding one. Every plan must finish, exact and unharmed: each 429 is retried, the
 * emulator serves each service exactly the reads a lone plan needs, and nothing fails. No timing
 * is asserted (how many 429s a run meets depends on the machine; they are counted, not bounded).
 */
import { join } from 'node:path';
import { loadLiveSeed, startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin } from '../helpers/emulator.js';
import { ROOT, runCliAsync, withoutProgress } from '../helpers/run.js';

type LogEntry = { method: string; path: string; status: number; principal?: string };

const SERVICES = ['apim-fleet-a', 'apim-fleet-b', 'apim-fleet-c'];
const OTHER_CLIENT = '00000000-0000-4000-8000-00000000c001';

let emu: RunningEmulator;
beforeAll(async () => {
  const { seed } = await loadLiveSeed(join(ROOT, 'policies'));
  emu = await startEmulator({ services: SERVICES.map((name) => ({ name, seed })), clientIds: [OTHER_CLIENT] });
});
afterAll(async () => {
  await emu?.close();
});

const armLog = async (): Promise<LogEntry[]> => ((await admin(emu, 'GET', 'requests')) as { log: LogEntry[] }).log.filter((e) => /^\/subscriptions\//i.test(e.path));
const serviceOf = (e: LogEntry) => /\/providers\/Microsoft\.ApiManagement\/service\/([^/]+)/i.exec(e.path)?.[1]?.toLowerCase();
const isRead = (e: LogEntry) => e.method === 'GET' || e.method === 'HEAD';

function plan(service: string, clientId = emu.ready.clientId) {
  const flags = ['--arm-endpoint', emu.ready.armEndpoint, '--subscription-id', emu.ready.subscriptionId, '--resource-group', emu.ready.resourceGroup];
  return runCliAsync(['plan', '--policies', 'policies', '--detailed-exitcode', ...flags, '--service-name', service, '--tenant-id', emu.ready.tenantId, '--client-id', clientId], {
    env: { ...emu.ready.env, GITHUB_ACTIONS: '' },
  });
}

test('three processes, two principals, one subscription bucket: every plan finishes with "No changes"; 429s are retried, nothing fails', async () => {
  // A lone plan, unthrottled: the reads one plan of this tree needs.
  const solo = await plan(SERVICES[0]!);
  expect(withoutProgress(solo.stderr)).toBe('');
  expect(solo.code).toBe(0);
  const soloLog = await armLog();
  const readsPerPlan = soloLog.filter((e) => isRead(e) && e.status === 200 && serviceOf(e) === SERVICES[0]).length;
  const soloRequests = soloLog.length;
  expect(readsPerPlan).toBeGreaterThan(5);

  // The subscription's global read bucket holds one plan's reads and refills 20/s; the principals' own are no bigger.
  await admin(emu, 'POST', 'faults', { throttle: { readBurst: readsPerPlan, readRate: 20, writeBurst: 10, writeRate: 1, globalFactor: 1 } });
  const runs = await Promise.all([plan(SERVICES[0]!), plan(SERVICES[1]!), plan(SERVICES[2]!, OTHER_CLIENT)]);
  for (const r of runs) {
    expect(withoutProgress(r.stderr)).toBe('');
    expect(r.stdout).toMatch(/^No changes\. Live APIM matches the policies tree/);
    expect(r.code).toBe(0);
  }

  const fleet = (await armLog()).slice(soloRequests);
  const throttled = fleet.filter((e) => e.status === 429);
  // Each service was served exactly the reads of a lone plan: no read lost, none made twice after a 429.
  for (const s of SERVICES) expect(fleet.filter((e) => isRead(e) && e.status === 200 && serviceOf(e) === s).length).toBe(readsPerPlan);
  // Three plans needed three times what the bucket holds: it was binding. Every other answer was a 429 that was retried.
  expect(3 * readsPerPlan).toBeGreaterThan(readsPerPlan + 20);
  expect(fleet.filter((e) => e.status !== 200 && e.status !== 429)).toEqual([]);
  for (const t of throttled) expect(fleet.some((e) => e.path === t.path && e.method === t.method && e.status === 200)).toBe(true);
  // Both principals were seen, each in its own request log entries.
  expect(new Set(fleet.map((e) => e.principal))).toEqual(new Set([emu.ready.clientId.toLowerCase(), OTHER_CLIENT.toLowerCase()]));
  process.stderr.write(`[fleet-throttle] ${fleet.length} ARM requests, ${throttled.length} answered 429 and retried, ${readsPerPlan} reads per plan\n`);
}, 120000);
