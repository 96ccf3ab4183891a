/**
 * Both response shapes of a rawxml read (issue 15): with the emulator's fault knob `rawxmlBare`,
 * a policy or fragment GET with `format=rawxml` answers the bare XML with content type
 * `application/vnd.ms-azure-apim.policy.raw+xml`, no JSON envelope. The bundled CLI plans and
 * applies against it as against the enveloped answer; the ETag comes from the header.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli } from '../helpers/emulator.js';
import { ROOT, withoutProgress } from '../helpers/run.js';
import { edit, sampleCopy } from '../helpers/tree.js';

type State = { resources: Record<string, { value: unknown; etag: string }> };
const ORDERS = 'apis/orders/policies/policy';

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startSeededEmulator({ seedDir: join(ROOT, 'policies') });
  await admin(emu, 'POST', 'faults', { rawxmlBare: true });
});
afterEach(async () => {
  await emu?.close();
});

test('with bare rawxml reads: plan of the sample says No changes; a change applies with If-Match from the header ETag, and a stale plan is refused', async () => {
  const same = await cli(emu, ['plan', '--policies', 'policies', '--detailed-exitcode']);
  expect(withoutProgress(same.stderr)).toBe('');
  expect(same.code).toBe(0);
  expect(same.stdout).toMatch(/^No changes\. Live APIM matches the policies tree \(19 resources\)/);

  const tree = sampleCopy();
  edit(tree, 'apis/orders/policy.xml', '<base />', '<base />\n        <set-header name="X-Bare" exists-action="override"><value>1</value></set-header>');
  edit(tree, 'policy fragments/correlation/policy.xml', '</fragment>', '    <set-variable name="bare" value="1" />\n</fragment>');
  const planFile = join(tree, '..', `${Date.now()}-bare-plan.json`);
  const plan = await cli(emu, ['plan', '--policies', tree, '--out', planFile]);
  expect(plan.code).toBe(0);
  const saved = JSON.parse(readFileSync(planFile, 'utf8'));
  const orders = saved.changes.find((c: { address: string }) => c.address === ORDERS);
  expect(orders.action).toBe('update');
  const live = (await admin(emu, 'GET', 'state')) as State;
  expect(orders.live.etag).toBe(live.resources[ORDERS]!.etag);

  const apply = await cli(emu, ['apply', '--plan', planFile]);
  expect(apply.stderr).not.toMatch(/error/i);
  expect(apply.code).toBe(0);
  expect(apply.stdout).toContain('Apply complete: 0 created, 2 updated, 0 deleted.');
  expect(JSON.stringify(((await admin(emu, 'GET', 'state')) as State).resources[ORDERS]!.value)).toContain('X-Bare');

  const again = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode']);
  expect(again.code).toBe(0);
  expect(again.stdout).toMatch(/^No changes\./);

  // The same saved plan again: its If-Match is the old header ETag, so ARM refuses and nothing is written.
  const stale = await cli(emu, ['apply', '--plan', planFile]);
  expect(stale.code).toBe(1);
  expect(stale.stderr).toContain(`${ORDERS} was changed live since the plan`);
});
