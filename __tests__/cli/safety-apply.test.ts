/**
 * Interrupted and concurrent applies lose nothing (issue 13), as users meet it: the bundled CLI
 * (and the bundled action) in their own processes against the emulator in this process, stopped
 * with SIGTERM or SIGKILL part-way, or racing another apply. Waits are for lines the process
 * prints or requests the emulator logs, never for a fixed time.
 */
import { spawn } from 'node:child_process';
import { cpSync, lstatSync, mkdtempSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst, targetFlags, targetInputs, armWrites } from '../helpers/emulator.js';
import { ACTION } from '../helpers/runner.js';
import { CLI, ROOT, runCli } from '../helpers/run.js';
import { edit, makeTree, policy, sampleCopy } from '../helpers/tree.js';

type State = { resources: Record<string, { value: unknown; etag: string }> };
type LogEntry = { method: string; path: string; status: number };

const ORDERS = 'apis/orders/policies/policy';
const CHAT = 'apis/chat/policies/policy';
const SEND_ORDER = 'apis/orders/operations/send-order/policies/policy';
const FRAGMENT = 'policyFragments/correlation';

const values = (s: State) => Object.fromEntries(Object.entries(s.resources).map(([k, v]) => [k, v.value]));
const state = async (emu: RunningEmulator) => (await admin(emu, 'GET', 'state')) as State;

const header = (name: string) => `<base />\n        <set-header name="${name}" exists-action="override"><value>1</value></set-header>`;

/** A process of the bundled CLI or action whose output can be waited on line by line. */
function launch(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: Array<() => void> = [];
  const poke = () => waiters.splice(0).forEach((w) => w());
  child.stdout.setEncoding('utf8').on('data', (c: string) => ((stdout += c), poke()));
  child.stderr.setEncoding('utf8').on('data', (c: string) => ((stderr += c), poke()));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; at: number }>((resolve) =>
    child.on('close', (code, signal) => {
      poke();
      resolve({ code, signal, stdout, stderr, at: Date.now() });
    }),
  );
  let exited = false;
  void closed.then(() => (exited = true));
  return {
    child,
    closed,
    output: () => stdout + stderr,
    /** Resolves once the output matches `re` `times` times; rejects when the process ends first. */
    async waitFor(re: RegExp, times = 1): Promise<void> {
      const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
      for (;;) {
        if ((stdout.match(global)?.length ?? 0) + (stderr.match(global)?.length ?? 0) >= times) return;
        if (exited) throw new Error(`the process ended before printing ${re} ×${times}:\n${stdout}\n${stderr}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

const cliProcess = (emu: RunningEmulator, args: string[], env: NodeJS.ProcessEnv = {}) =>
  launch([CLI, ...args, ...targetFlags(emu)], { ...emu.ready.env, GITHUB_ACTIONS: '', RUNNER_TEMP: '', ...env });

/** Waits until the emulator's request log satisfies `test` (polled: the log is the emulator's, not an event). */
async function untilLogged(emu: RunningEmulator, test: (log: LogEntry[]) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    if (test(((await admin(emu, 'GET', 'requests')) as { log: LogEntry[] }).log)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the emulator never logged ${what}`);
}

const DONE = /^ {2}(create|update|delete) .* … done$/m;

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'policies') });
});
afterEach(async () => {
  await emu?.close();
});

test('SIGTERM during apply: no write after it, what the run wrote is put back, the snapshot was named before the first write, exit 143', async () => {
  const tree = sampleCopy();
  edit(tree, 'policy fragments/correlation/policy.xml', '</fragment>', '    <set-variable name="run" value="sigterm" />\n</fragment>');
  edit(tree, 'apis/orders/policy.xml', '<base />', header('X-Api'));
  edit(tree, 'apis/chat/policy.xml', '<base />', header('X-Chat'));
  edit(tree, 'apis/orders/operations/send-order/policy.xml', '<base />', header('X-Op'));
  const planFile = join(mkdtempSync(join(tmpdir(), 'apim-policy-plan-')), 'plan.json');
  expect((await cliAgainst(emu, ['plan', '--policies', tree, '--out', planFile])).code).toBe(0);
  const before = await state(emu);
  // Every ARM answer takes a while, so the signal comes while writes are under way; the operation
  // (the last level) cannot land at all, so the run cannot finish before the signal.
  await admin(emu, 'POST', 'faults', { latencyMs: 300, failWrites: { address: SEND_ORDER, status: 503, times: -1 } });

  const apply = cliProcess(emu, ['apply', '--plan', planFile]);
  await apply.waitFor(DONE);
  apply.child.kill('SIGTERM');
  // A second signal (a runner's SIGTERM after its SIGINT) does not cut the restore short.
  await apply.waitFor(/^SIGTERM: stopping the apply/m);
  apply.child.kill('SIGTERM');
  await apply.waitFor(
    /^SIGTERM again: still restoring what this run wrote; wait for it to finish\. If the process is killed, `apim-policy restore --snapshot .+` with the same target flags puts back what is left\.$/m,
  );
  const r = await apply.closed;
  const out = r.stdout + r.stderr;

  expect(r.signal).toBeNull();
  expect(r.code).toBe(143);
  // The run ends without waiting out retries (not timed: a busy machine is slow): the operation
  // level, whose write would fail and be retried with backoff, was never sent.
  const log = ((await admin(emu, 'GET', 'requests')) as { log: Array<{ method: string; path: string }> }).log;
  expect(log.filter((e) => e.method === 'PUT' && /\/apis\/orders\/operations\/send-order\/policies\/policy$/i.test(e.path))).toEqual([]);
  expect(out).toContain('SIGTERM: stopping the apply. No new write starts');
  expect(r.stdout).toContain('Apply FAILED: interrupted (SIGTERM) before the apply finished; no write was started after that');
  const snapshotFile = /^Snapshot of what this apply changes, as it was before: (.+)$/m.exec(r.stdout)?.[1];
  expect(snapshotFile).toBeDefined();
  expect(r.stdout.indexOf('Snapshot of what this apply changes')).toBeLessThan(r.stdout.search(DONE));
  const restored = [...r.stdout.matchAll(/^ {2}restored (\S+): (put back as it was|deleted again.*)$/gm)].map((m) => m[1]);
  expect(restored.length).toBeGreaterThanOrEqual(1);
  expect(restored).toContain(FRAGMENT);
  expect(r.stdout).not.toMatch(/FAILED {2}|NOT restored/);
  // The operation level comes last: it was never written.
  expect(restored).not.toContain(SEND_ORDER);
  expect(values(await state(emu))).toEqual(values(before));

  // The snapshot: owner-only, in a folder of its own, with the ETag each confirmed write returned.
  expect(statSync(snapshotFile!).mode & 0o777).toBe(0o600);
  expect(statSync(dirname(snapshotFile!)).mode & 0o777).toBe(0o700);
  const snapshot = JSON.parse(readFileSync(snapshotFile!, 'utf8'));
  const fragment = snapshot.resources.find((x: { address: string }) => x.address === FRAGMENT);
  expect(fragment).toMatchObject({ action: 'update', existed: true, after: { existed: true, etag: expect.stringMatching(/^".+"$/) } });
  expect(snapshot.resources.find((x: { address: string }) => x.address === SEND_ORDER).after).toBeUndefined();
}, 120_000);

test('a SIGTERM while a failed apply restores does not stop the restore: live still ends as it was', async () => {
  const tree = sampleCopy();
  edit(tree, 'policy fragments/correlation/policy.xml', '</fragment>', '    <set-variable name="run" value="late-signal" />\n</fragment>');
  edit(tree, 'apis/orders/policy.xml', '<base />', header('X-Late'));
  edit(tree, 'apis/chat/policy.xml', '<base />', header('X-Late'));
  edit(tree, 'apis/orders/operations/send-order/policy.xml', '<base />', header('X-Late'));
  const planFile = join(mkdtempSync(join(tmpdir(), 'apim-policy-plan-')), 'plan.json');
  expect((await cliAgainst(emu, ['plan', '--policies', tree, '--out', planFile])).code).toBe(0);
  const before = await state(emu);
  // The operation fails for good; the three restores then take 300 ms each.
  await admin(emu, 'POST', 'faults', { latencyMs: 300, failWrites: { address: SEND_ORDER, status: 400, times: -1 } });
  const apply = cliProcess(emu, ['apply', '--plan', planFile]);
  await apply.waitFor(/^ {2}restore \S+ … done$/m);
  apply.child.kill('SIGTERM');
  const r = await apply.closed;
  expect(r.signal).toBeNull();
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('SIGTERM: stopping the apply');
  expect(r.stdout).toContain(`Apply FAILED: PUT ${SEND_ORDER}`);
  for (const address of [ORDERS, CHAT, FRAGMENT]) expect(r.stdout).toContain(`restored ${address}: put back as it was`);
  expect(values(await state(emu))).toEqual(values(before));
}, 120_000);

test('after a SIGKILL, restore puts back what the run wrote, keeps a later edit by someone else (unless --force), and is idempotent', async () => {
  const tree = sampleCopy();
  edit(tree, 'apis/orders/policy.xml', '<base />', header('X-Killed'));
  edit(tree, 'apis/chat/policy.xml', '<base />', header('X-Killed'));
  edit(tree, 'apis/orders/operations/send-order/policy.xml', '<base />', header('X-Killed'));
  const planFile = join(mkdtempSync(join(tmpdir(), 'apim-policy-plan-')), 'plan.json');
  expect((await cliAgainst(emu, ['plan', '--policies', tree, '--out', planFile])).code).toBe(0);
  const before = await state(emu);
  // The operation (the last level) never lands: the run is still retrying it when it is killed.
  await admin(emu, 'POST', 'faults', { failWrites: { address: SEND_ORDER, status: 503, times: -1 } });

  const apply = cliProcess(emu, ['apply', '--plan', planFile]);
  await apply.waitFor(DONE, 2);
  apply.child.kill('SIGKILL');
  const killed = await apply.closed;
  expect(killed.signal).toBe('SIGKILL');
  const snapshotFile = /^Snapshot of what this apply changes, as it was before: (.+)$/m.exec(killed.stdout)![1]!;
  expect((await state(emu)).resources[ORDERS]!.value).toContain('X-Killed');

  // Someone edits the chat policy after the run wrote it.
  const chat = ((await state(emu)).resources[CHAT]!.value as string).replace('X-Killed', 'X-Person');
  await admin(emu, 'POST', 'edit', { address: CHAT, value: chat });

  const restore = await cliAgainst(emu, ['restore', '--snapshot', snapshotFile]);
  expect(restore.code).toBe(1);
  expect(restore.stdout).toContain(`restored  ${ORDERS}: put back as it was`);
  expect(restore.stdout).toMatch(new RegExp(`FAILED {4}${CHAT}: NOT restored: it was changed after the apply wrote it \\(ETag ".+" then, ".+" now\\); check it, then pass --force`));
  expect(restore.stdout).toContain(`unchanged ${SEND_ORDER}: already as it was`);
  expect(restore.stdout).toContain('Restore INCOMPLETE: 1 put back, 1 already as they were, 1 NOT restored');
  const partly = await state(emu);
  expect(partly.resources[ORDERS]!.value).toEqual(before.resources[ORDERS]!.value);
  expect(partly.resources[CHAT]!.value).toContain('X-Person');

  const forced = await cliAgainst(emu, ['restore', '--snapshot', snapshotFile, '--force']);
  expect(forced.code).toBe(0);
  expect(forced.stdout).toContain(`restored  ${CHAT}: put back as it was (over a change made since: --force)`);
  expect(forced.stdout).toContain('Restore complete: 1 put back, 2 already as they were.');
  expect(values(await state(emu))).toEqual(values(before));

  const again = await cliAgainst(emu, ['restore', '--snapshot', snapshotFile]);
  expect(again.code).toBe(0);
  expect(again.stdout).toContain('Restore complete: 0 put back, 3 already as they were.');
}, 120_000);

test('restore refuses a snapshot of another instance, and a file that is not a snapshot, before writing anything', async () => {
  const help = runCli(['restore', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toMatch(/^Usage: apim-policy restore \[options\]/);
  expect(help.stdout).toContain('--snapshot <file>');
  expect(help.stdout).toContain('--force');
  const dir = mkdtempSync(join(tmpdir(), 'apim-policy-snap-'));
  const other = join(dir, 'other.json');
  writeFileSync(
    other,
    JSON.stringify({
      formatVersion: 2,
      createdAt: 'x',
      serviceId: '/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/other',
      fingerprint: '0'.repeat(32),
      resources: [{ address: ORDERS, existed: false }],
    }),
  );
  const r = await cliAgainst(emu, ['restore', '--snapshot', other]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`${other} is a snapshot of /subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/other, not of the instance the flags name`);
  const climbing = join(dir, 'climbing.json');
  writeFileSync(climbing, JSON.stringify({ formatVersion: 2, createdAt: 'x', serviceId: 's', resources: [{ address: 'apis/../policies/policy', existed: false }] }));
  const c = await cliAgainst(emu, ['restore', '--snapshot', climbing]);
  expect(c.code).toBe(1);
  expect(c.stderr).toContain(`${climbing} is not a snapshot written by apim-policy apply: resources[0] has no valid policy address`);
  const log = ((await admin(emu, 'GET', 'requests')) as { log: LogEntry[] }).log;
  expect(armWrites(log)).toEqual([]);
});

test("two applies at once: a run restores only what it can prove it wrote, never the other run's identical write", async () => {
  // Run B creates a fragment, sets the orders policy to X and changes the operation; run A sets
  // the orders policy to the same X. Both plan from the same live state.
  const treeB = sampleCopy();
  const NEW_FRAGMENT = 'policyFragments/race';
  cpSync(join(treeB, 'policy fragments', 'correlation'), join(treeB, 'policy fragments', 'race'), { recursive: true });
  edit(treeB, 'apis/orders/policy.xml', '<base />', header('X-Same'));
  edit(treeB, 'apis/orders/operations/send-order/policy.xml', '<base />', header('X-B'));
  const treeA = sampleCopy();
  edit(treeA, 'apis/orders/policy.xml', '<base />', header('X-Same'));
  const plans = mkdtempSync(join(tmpdir(), 'apim-policy-plan-'));
  expect((await cliAgainst(emu, ['plan', '--policies', treeB, '--out', join(plans, 'b.json')])).code).toBe(0);
  expect((await cliAgainst(emu, ['plan', '--policies', treeA, '--out', join(plans, 'a.json')])).code).toBe(0);
  const before = await state(emu);

  // B's first write (the new fragment) is held back (503, retried) until A has applied.
  await admin(emu, 'POST', 'faults', { failWrites: { address: NEW_FRAGMENT, status: 503, times: -1 } });
  const b = cliProcess(emu, ['apply', '--plan', join(plans, 'b.json')]);
  await untilLogged(emu, (log) => log.some((e) => e.method === 'PUT' && /policyFragments\/race$/i.test(e.path) && e.status === 503), "B's first fragment write");
  const a = await cliAgainst(emu, ['apply', '--plan', join(plans, 'a.json')]);
  expect(a.code).toBe(0);
  const afterA = (await state(emu)).resources[ORDERS]!;
  expect(afterA.value).toContain('X-Same');
  // Now B's fragment lands, its orders write meets A's (412, same content), its operation write fails for good.
  await admin(emu, 'POST', 'faults', { failWrites: { address: SEND_ORDER, status: 400, times: -1 } });
  const r = await b.closed;

  expect(r.code).toBe(1);
  expect(r.stdout).toContain(`restored ${NEW_FRAGMENT}: deleted again (it did not exist before)`);
  expect(r.stdout).toContain(`FAILED   ${ORDERS}: NOT restored: live has this run's content, but ARM never confirmed a write of this run to it`);
  const end = await state(emu);
  // A's write stands, untouched by B's restore; B's own write is gone; the rest is as before.
  expect(end.resources[ORDERS]).toEqual(afterA);
  expect(end.resources[NEW_FRAGMENT]).toBeUndefined();
  expect(end.resources[SEND_ORDER]!.value).toEqual(before.resources[SEND_ORDER]!.value);
}, 150_000);

test('plan and snapshot files: mode 0600, a plan file replaced whole, a symbolic link at either path refused and left alone', async () => {
  const desired = makeTree({ 'apis/a/policy.xml': policy('<set-header name="a" exists-action="override"><value>1</value></set-header>') });
  const live = makeTree({ 'apis/a/policy.xml': policy() });
  const dir = mkdtempSync(join(tmpdir(), 'apim-policy-files-'));

  const fresh = join(dir, 'plan.json');
  expect(runCli(['plan', '--policies', desired, '--live-snapshot', live, '--out', fresh]).code).toBe(0);
  expect(statSync(fresh).mode & 0o777).toBe(0o600);

  const existing = join(dir, 'existing.json');
  writeFileSync(existing, 'old', { mode: 0o644 });
  expect(runCli(['plan', '--policies', desired, '--live-snapshot', live, '--out', existing]).code).toBe(0);
  expect(statSync(existing).mode & 0o777).toBe(0o600);
  expect(JSON.parse(readFileSync(existing, 'utf8')).changes[0].address).toBe('apis/a/policies/policy');

  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, 'keep me');
  const link = join(dir, 'link.json');
  symlinkSync(victim, link);
  const viaLink = runCli(['plan', '--policies', desired, '--live-snapshot', live, '--out', link]);
  expect(viaLink.code).not.toBe(0);
  expect(viaLink.stderr).toContain(`${link} is a symbolic link; the plan file is never written through one`);
  expect(readFileSync(victim, 'utf8')).toBe('keep me');
  expect(lstatSync(link).isSymbolicLink()).toBe(true);

  // apply: a snapshot path taken by a link (or a file) stops the apply before any write.
  const tree = sampleCopy();
  edit(tree, 'apis/orders/policy.xml', '<base />', header('X-Link'));
  const before = await state(emu);
  const apply = await cliAgainst(emu, ['apply', '--policies', tree, '--snapshot-file', link]);
  expect(apply.code).toBe(1);
  expect(apply.stderr).toContain(`${link} is a symbolic link; the snapshot is never written through one`);
  expect(readFileSync(victim, 'utf8')).toBe('keep me');
  const taken = await cliAgainst(emu, ['apply', '--policies', tree, '--snapshot-file', fresh]);
  expect(taken.code).toBe(1);
  expect(taken.stderr).toContain(`${fresh} already exists; a snapshot is never overwritten`);
  expect(values(await state(emu))).toEqual(values(before));
  const log = ((await admin(emu, 'GET', 'requests')) as { log: LogEntry[] }).log;
  expect(armWrites(log)).toEqual([]);
}, 120_000);

test('the action: SIGTERM during apply restores, fails the step, and set the snapshot-file output when the snapshot was written', async () => {
  const tree = sampleCopy();
  edit(tree, 'apis/orders/policy.xml', '<base />', header('X-Action'));
  edit(tree, 'apis/chat/policy.xml', '<base />', header('X-Action'));
  edit(tree, 'apis/orders/operations/send-order/policy.xml', '<base />', header('X-Action'));
  const before = await state(emu);
  const work = mkdtempSync(join(tmpdir(), 'apim-policy-runner-'));
  const outputFile = join(work, 'output');
  writeFileSync(outputFile, '');
  const inputEnv = Object.fromEntries(
    Object.entries({ ...targetInputs(emu), auth: 'oidc', audience: 'api://AzureADTokenExchange', mode: 'apply', 'policies-path': tree }).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v]),
  );
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('INPUT_') && !k.startsWith('GITHUB_')));
  // The operation (the last level) cannot land: the run is still at it when the signal comes.
  await admin(emu, 'POST', 'faults', { failWrites: { address: SEND_ORDER, status: 503, times: -1 } });
  const action = launch([ACTION], { ...clean, ...emu.ready.env, ...inputEnv, GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: outputFile, RUNNER_TEMP: work, GITHUB_EVENT_NAME: 'push' });
  await action.waitFor(/: done$/m, 2);
  action.child.kill('SIGTERM');
  const r = await action.closed;
  expect(r.signal).toBeNull();
  expect(r.code).not.toBe(0);
  expect(r.stdout).toMatch(/::warning::SIGTERM: stopping the apply/);
  expect(r.stdout).toMatch(/::error::apply failed: interrupted \(SIGTERM\)/);
  const snapshotFile = /^Snapshot of what this apply changes, as it was before: (.+)$/m.exec(r.stdout)![1]!;
  expect(dirname(snapshotFile)).toBe(work);
  expect(readFileSync(outputFile, 'utf8')).toContain(snapshotFile);
  expect(statSync(snapshotFile).mode & 0o777).toBe(0o600);
  expect(values(await state(emu))).toEqual(values(before));
}, 120_000);
