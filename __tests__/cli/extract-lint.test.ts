/**
 * `extract` then `lint` of what it wrote: no errors. Live instances hold what identity.yaml would
 * call mistakes — policies that use a managed identity the instance has switched off, a client-id
 * while no user-assigned identity is attached — and roles this tool does not know offline. The
 * extracted file says what is live (planning it right after changes nothing), and lint describes
 * the live problem as a warning instead of refusing the tree.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { cliAgainst as cli } from '../helpers/emulator.js';
import { runCliAsync, withoutProgress } from '../helpers/run.js';
import { makeTree, policy } from '../helpers/tree.js';

// The emulator's default subscription (the seed's identity.yaml is written before it starts).
const SUB = '00000000-0000-4000-8000-00000000a001';
const SB = `/subscriptions/${SUB}/resourceGroups/rg-integration/providers/Microsoft.ServiceBus/namespaces/sb-orders`;
const MAPS = `/subscriptions/${SUB}/resourceGroups/rg-maps/providers/Microsoft.Maps/accounts/maps-fleet`;
const UAI = `/subscriptions/${SUB}/resourceGroups/rg-identities/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-openai`;

const SEND = ['<authentication-managed-identity resource="https://servicebus.azure.net/" />', '<set-backend-service base-url="https://sb-orders.servicebus.windows.net/orders" />'].join('\n    ');
const SEND_AS_USER = [
  '<base />',
  '<authentication-managed-identity resource="https://servicebus.azure.net/" client-id="{{orders-client-id}}" />',
  '<set-backend-service base-url="https://sb-orders.servicebus.windows.net/orders" />',
].join('\n    ');

let emu: RunningEmulator | undefined;
afterEach(async () => {
  await emu?.close();
  emu = undefined;
});

async function extractThenLint(seed: Record<string, string>) {
  emu = await startEmulator({ seedDir: makeTree(seed) });
  const out = join(makeTree({}), 'extracted');
  const extract = await cli(emu, ['extract', '--out', out]);
  expect(withoutProgress(extract.stderr)).toBe('');
  expect(extract.code).toBe(0);
  const lint = await runCliAsync(['lint', '--policies', out]);
  return { out, lint, manifest: readFileSync(join(out, 'identity.yaml'), 'utf8') };
}

test('policies using an identity the instance has switched off: extract says so, lint warns (a real live problem) and does not fail', async () => {
  const { out, lint, manifest } = await extractThenLint({
    'policy.xml': policy(SEND),
    'apis/orders/policy.xml': policy(SEND_AS_USER),
    'identity.yaml': 'identity:\n  systemAssigned: false\n',
  });
  expect(manifest).toContain('systemAssigned: false');
  expect(manifest).not.toContain('userAssigned'); // none attached: left as it is, so the client-id is not judged offline
  const text = lint.stdout + lint.stderr;
  expect(text).not.toContain(': error:');
  expect(text).toContain('0 error(s)');
  expect(text).toMatch(
    /policy\.xml:\d+:\d+: warning: authentication-managed-identity without client-id uses the system-assigned identity, but identity\.yaml sets systemAssigned: false, so the policy gets no token/,
  );
  expect(lint.code).toBe(0);
  // What extract wrote is what is live: planning it changes nothing.
  const plan = await cli(emu!, ['plan', '--policies', out, '--detailed-exitcode']);
  expect(plan.stdout).toContain('No changes.');
  expect(plan.code).toBe(0);
}, 120000);

test('role assignments with a role not known offline: extract writes its GUID with the name beside it, lint has nothing to say about it, the plan agrees', async () => {
  const { out, lint, manifest } = await extractThenLint({
    'policy.xml': policy(SEND),
    'identity.yaml': [
      'identity:',
      '  systemAssigned: true',
      '  userAssigned:',
      `    openai: ${UAI}`,
      'roleAssignments:',
      `  - { identity: system, role: Azure Service Bus Data Sender, scope: ${SB} }`,
      `  - { identity: system, role: Azure Maps Data Reader, scope: ${MAPS} }`,
      `  - { identity: openai, role: Azure Maps Data Reader, scope: ${MAPS} }`,
      '',
    ].join('\n'),
  });
  expect(manifest).toContain('role: Azure Service Bus Data Sender\n');
  expect(manifest.match(/role: 423170ca-a8f6-4b0f-8487-9e4eb8f49bfa # Azure Maps Data Reader\n/g)).toHaveLength(2);
  const text = lint.stdout + lint.stderr;
  expect(text).not.toContain(': error:');
  expect(text).toContain(`No problems in ${out}.`);
  expect(lint.code).toBe(0);
  const plan = await cli(emu!, ['plan', '--policies', out, '--detailed-exitcode']);
  expect(plan.stdout).toContain('No changes.');
  expect(plan.code).toBe(0);
}, 120000);
