/**
 * The bundled action (dist/index.js) against a live instance, with the runner's environment
 * contract: a pull request plans over GitHub OIDC, a push applies the saved plan and reports the
 * snapshot; a stale saved plan is refused.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { ROOT } from '../helpers/run.js';
import { admin, targetInputs } from '../helpers/emulator.js';
import { runActionAsync } from '../helpers/runner.js';

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'demo', 'live-snapshot') });
});
afterEach(async () => {
  await emu?.close();
});

const inputs = () => ({
  'policies-path': 'policies',
  ...targetInputs(emu),
  auth: 'oidc',
  audience: 'api://AzureADTokenExchange',
});
const runnerEnv = (event: string) => ({
  ...emu.ready.env,
  GITHUB_ACTIONS: 'true',
  GITHUB_EVENT_NAME: event,
  GITHUB_REF: 'refs/heads/main',
  GITHUB_SHA: '0123456789abcdef0123456789abcdef01234567',
  GITHUB_REPOSITORY: 'octo-org/octo-repo',
});

test('pull_request plans over OIDC; push applies exactly the saved plan (with deletes allowed) and outputs the snapshot', async () => {
  const plan = await runActionAsync(inputs(), runnerEnv('pull_request'));
  expect(plan.code).toBe(0);
  expect(plan.outputs['has-changes']).toBe('true');
  expect(JSON.parse(plan.outputs.summary!)).toEqual({ create: 6, update: 5, delete: 1, unchanged: 8 });
  // The log says what was read and what it cost: as many ARM calls as ARM (the emulator) served.
  expect(plan.stdout).toContain(`Reading ${emu.ready.serviceName} (resource group ${emu.ready.resourceGroup}, subscription ${emu.ready.subscriptionId})`);
  const served = ((await admin(emu, 'GET', 'requests')).log as Array<{ path: string }>).filter((e) => e.path.startsWith('/subscriptions/')).length;
  expect(plan.stdout).toMatch(new RegExp(`^Planned: 6 to create, 5 to update, 1 to delete, 8 unchanged; ${served} ARM call\\(s\\) in \\d+\\.\\d s$`, 'm'));
  expect(plan.summary).toContain('<code>apis/chat/policies/policy</code>');
  const planFile = plan.outputs['plan-file']!;
  expect(JSON.parse(readFileSync(planFile, 'utf8')).commit).toBe('0123456789abcdef0123456789abcdef01234567');
  // The ID token reaches the log only as the runner's mask command.
  const token = /::add-mask::(ey\S+)/.exec(plan.stdout)?.[1];
  expect(token).toMatch(/^ey/);
  expect(plan.stdout.replace(`::add-mask::${token}`, '')).not.toContain(token!);
  expect(plan.summary).not.toContain(token!);
  expect(readFileSync(planFile, 'utf8')).not.toContain(token!);
  // The sample's secret named value (ORDERS_API_KEY from the step's env): masked, planned as an
  // update without either value, and in no output.
  const secret = process.env.ORDERS_API_KEY!;
  expect(plan.stdout).toContain(`::add-mask::${secret}`);
  expect(plan.stdout.replace(`::add-mask::${secret}`, '')).not.toContain(secret);
  expect(plan.summary).toContain('secret value changed');
  expect(plan.summary + plan.stderr).not.toContain(secret);
  expect(readFileSync(planFile, 'utf8')).not.toContain(secret);

  const apply = await runActionAsync({ ...inputs(), 'plan-file': planFile, 'allow-deletes': 'true' }, runnerEnv('push'));
  expect(apply.code).toBe(0);
  expect(apply.summary).toContain('**Applied:** 6 created, 5 updated, 1 deleted.');
  const snapshot = JSON.parse(readFileSync(apply.outputs['snapshot-file']!, 'utf8'));
  // Every resource of APIM the apply wrote (policies and entities; the identity side has its own record), as it was.
  expect((snapshot.resources as Array<{ address: string; action: string }>).map((r) => `${r.action} ${r.address}`).sort()).toEqual([
    'create apis/logic-callback/policies/policy',
    'create backends/orders-fulfilment',
    'create namedValues/logic-callback-sig',
    'delete apis/legacy-echo/policies/policy',
    'update apis/chat/policies/policy',
    'update apis/orders/policies/policy',
    'update namedValues/orders-api-key',
    'update policies/policy',
  ]);
  // The secret's old value is not in the snapshot (it cannot be restored from there; a failed run puts it back from memory).
  expect(JSON.stringify(snapshot)).not.toContain('demo-key-before-rotation');

  const drift = await runActionAsync({ ...inputs(), 'fail-on-drift': 'true' }, runnerEnv('schedule'));
  expect(drift.code).toBe(0);
  expect(drift.outputs['has-changes']).toBe('false');
});

test('push with a stale saved plan fails and writes nothing', async () => {
  const plan = await runActionAsync(inputs(), runnerEnv('pull_request'));
  const chat = readFileSync(join(ROOT, 'demo', 'live-snapshot', 'apis', 'chat', 'policy.xml'), 'utf8');
  await admin(emu, 'POST', 'edit', {
    address: 'apis/chat/policies/policy',
    value: chat.replace('<base />', '<base /><set-header name="X-Portal" exists-action="override"><value>1</value></set-header>'),
  });
  const apply = await runActionAsync({ ...inputs(), 'plan-file': plan.outputs['plan-file']! }, runnerEnv('push'));
  expect(apply.code).toBe(1);
  expect(apply.stdout).toContain('::error::live changed since the plan');
  expect(apply.stdout).toContain('apis/chat/policies/policy was changed live since the plan');
  expect(apply.outputs['snapshot-file']).toBeUndefined();
});
