/**
 * `allPolicies` is a hint, not the whole truth: a scope the list leaves out is read directly before
 * the plan calls it a create, and a service without the list (404/501 on it) is listed scope by
 * scope. The bundled CLI in its own process, over HTTPS with the real SDKs, against the seeded
 * emulator with its `omitFromAllPolicies` and `allPoliciesStatus` fault knobs.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli } from '../helpers/emulator.js';
import { ROOT, withoutProgress } from '../helpers/run.js';
import { edit, policy, sampleCopy } from '../helpers/tree.js';

type LogEntry = { method: string; path: string; status: number };
type State = { resources: Record<string, { value: unknown; etag: string }> };

const ORDERS = 'apis/orders/policies/policy';

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'policies') });
});
afterEach(async () => {
  await emu?.close();
});

const armLog = async (): Promise<LogEntry[]> => ((await admin(emu, 'GET', 'requests')) as { log: LogEntry[] }).log.filter((e) => /^\/subscriptions\//i.test(e.path));
/** The policy and fragment GETs of a stretch of the log, as service-relative addresses (sorted). */
const policyGets = (log: LogEntry[]) =>
  log
    .filter((e) => e.method === 'GET' && /\/(policies\/policy|policyFragments\/[^/]+)$/i.test(e.path))
    .map((e) => e.path.replace(/^.*\/providers\/Microsoft\.ApiManagement\/service\/[^/]+\//i, '') + (e.status === 404 ? ' 404' : ''))
    .sort();

/** One `plan` run, and the ARM requests it made. */
async function planRun(tree: string) {
  const before = (await armLog()).length;
  const run = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode']);
  return { run, log: (await armLog()).slice(before) };
}

test('a scope allPolicies leaves out is read directly: the unchanged sample plans "No changes", with the same policy GETs as a full list', async () => {
  const baseline = await planRun('policies');
  expect(baseline.run.code).toBe(0);

  await admin(emu, 'POST', 'faults', { omitFromAllPolicies: ['apis/orders'] });
  const omitted = await planRun('policies');
  expect(withoutProgress(omitted.run.stderr)).toBe('');
  expect(omitted.run.stdout).toMatch(/^No changes\. Live APIM matches the policies tree \(19 resources\)/);
  expect(omitted.run.code).toBe(0);
  // The list really left the API and its operation out; the two were read directly instead — each
  // once, and nothing else was read: the policy GETs are exactly those of a run with the full list.
  expect(omitted.log.filter((e) => /\/allPolicies$/i.test(e.path)).map((e) => e.status)).toEqual([200]);
  expect(policyGets(omitted.log)).toEqual(policyGets(baseline.log));
  expect(policyGets(omitted.log)).toContain(ORDERS);
  expect(policyGets(omitted.log)).toContain('apis/orders/operations/send-order/policies/policy');
  expect(omitted.log.some((e) => /\/(apis|products)$/i.test(e.path))).toBe(false);
}, 60000);

test('a desired address absent live costs exactly one extra GET (a 404), and is then planned as a create', async () => {
  const baseline = await planRun('policies');
  const tree = sampleCopy();
  mkdirSync(join(tree, 'apis/chat/operations/ask'), { recursive: true });
  writeFileSync(join(tree, 'apis/chat/operations/ask/policy.xml'), policy());
  // The operation exists live without a policy (ARM refuses a policy for an operation it lacks).
  await admin(emu, 'POST', 'edit', { address: 'apis/chat/operations/ask', value: { displayName: 'ask' } });
  const added = await planRun(tree);
  expect(added.run.code).toBe(2);
  expect(added.run.stdout).toMatch(/apis\/chat\/operations\/ask\/policies\/policy/);
  expect(policyGets(added.log)).toEqual([...policyGets(baseline.log), 'apis/chat/operations/ask/policies/policy 404'].sort());
}, 60000);

test('apply of a change to an API allPolicies leaves out: an update, not a create refused forever', async () => {
  await admin(emu, 'POST', 'faults', { omitFromAllPolicies: ['apis/orders'] });
  const tree = sampleCopy();
  edit(tree, 'apis/orders/policy.xml', '<base />', '<base />\n        <set-header name="X-Hint" exists-action="override"><value>1</value></set-header>');
  const apply = await cli(emu, ['apply', '--policies', tree]);
  expect(apply.stderr).not.toMatch(/error/i);
  expect(apply.code).toBe(0);
  expect(apply.stdout).toContain('Apply complete: 0 created, 1 updated, 0 deleted.');
  const state = (await admin(emu, 'GET', 'state')) as State;
  expect(state.resources[ORDERS]!.value as string).toContain('X-Hint');
  const replan = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode']);
  expect(replan.code).toBe(0);
}, 60000);

test.each([404, 501])(
  'allPolicies answering %i: the plan lists scope by scope and still says "No changes"',
  async (status) => {
    await admin(emu, 'POST', 'faults', { allPoliciesStatus: status });
    const { run, log } = await planRun('policies');
    expect(withoutProgress(run.stderr)).toBe('');
    expect(run.stdout).toMatch(/^No changes\. Live APIM matches the policies tree \(19 resources\)/);
    expect(run.code).toBe(0);
    expect(log.filter((e) => /\/allPolicies$/i.test(e.path)).every((e) => e.status === status)).toBe(true);
    // The fallback: the SDK's lists of APIs and products, then each candidate scope read once.
    expect(log.some((e) => /\/apis$/i.test(e.path) && e.status === 200)).toBe(true);
    expect(log.some((e) => /\/products$/i.test(e.path) && e.status === 200)).toBe(true);
    const gets = policyGets(log);
    expect(new Set(gets).size).toBe(gets.length);
  },
  60000,
);
