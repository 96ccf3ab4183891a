/**
 * Role names that are not built-in roles known offline, as users meet them: `lint` warns (a custom
 * role is fine) with the role it probably means; the live `plan` asks ARM (`roleName eq` at the
 * assignment's scope) and, when no role has that name, stops with an error at the role's line that
 * names the role and the suggestion; `apply` writes nothing. A role ARM has (a built-in one not
 * listed offline) is resolved and planned like any other. The bundled CLI against the emulator.
 */
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli, armWrites } from '../helpers/emulator.js';
import { runCliAsync } from '../helpers/run.js';
import { makeTree, policy } from '../helpers/tree.js';

type LogEntry = { method: string; path: string; status: number };

let emu: RunningEmulator;
let SUB: string;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: makeTree({ 'policy.xml': policy() }) });
  SUB = emu.ready.subscriptionId;
});
afterEach(async () => {
  await emu?.close();
});

const sb = () => `/subscriptions/${SUB}/resourceGroups/rg-integration/providers/Microsoft.ServiceBus/namespaces/sb-orders`;
const kv = () => `/subscriptions/${SUB}/resourceGroups/rg-integration/providers/Microsoft.KeyVault/vaults/kv-orders`;
const maps = () => `/subscriptions/${SUB}/resourceGroups/rg-maps/providers/Microsoft.Maps/accounts/maps-fleet`;
const writes = async () => armWrites((await admin(emu, 'GET', 'requests')).log as LogEntry[]);
const roleLookups = async () => ((await admin(emu, 'GET', 'requests')).log as LogEntry[]).filter((e) => /\/roleDefinitions/i.test(e.path)).map((e) => decodeURIComponent(e.path));

/** identity.yaml with the system identity on and these [role, scope] assignments, three lines each: assignment n's role is on line 5 + 3n, column 11. */
const manifest = (roles: Array<[string, string]>) =>
  ['identity:', '  systemAssigned: true', 'roleAssignments:', ...roles.flatMap(([role, scope]) => ['  - identity: system', `    role: ${role}`, `    scope: ${scope}`]), ''].join('\n');

test('a role ARM does not have: lint warns with the role meant, the plan stops at its line naming both, apply writes nothing', async () => {
  const tree = makeTree({
    'policy.xml': policy(),
    'identity.yaml': manifest([
      ['Azure Service Bus Sender', sb()],
      ['Key Vault Secret User', kv()],
    ]),
  });

  const lint = await runCliAsync(['lint', '--policies', tree]);
  expect(lint.code).toBe(0);
  expect(lint.stdout).toContain(`identity.yaml:5:11: warning: role "Azure Service Bus Sender" is not one of the`);
  expect(lint.stdout).toMatch(/identity\.yaml:5:11: warning: .*; did you mean "Azure Service Bus Data Sender"\? A custom role .* \[unknown-role\]/);
  expect(lint.stdout).toMatch(/identity\.yaml:8:11: warning: role "Key Vault Secret User" .*; did you mean "Key Vault Secrets User"\?/);
  expect(lint.stdout).not.toContain(': error:');

  const plan = await cli(emu, ['plan', '--policies', tree]);
  expect(plan.code).not.toBe(0);
  expect(plan.stdout).toContain(
    `identity.yaml:5:11: error: role "Azure Service Bus Sender" does not exist at ${sb()} (Azure has no role definition of that name there); did you mean "Azure Service Bus Data Sender"?`,
  );
  expect(plan.stdout).toContain(
    `identity.yaml:8:11: error: role "Key Vault Secret User" does not exist at ${kv()} (Azure has no role definition of that name there); did you mean "Key Vault Secrets User"?`,
  );
  // ARM was asked, at the assignment's scope, by name.
  expect(await roleLookups()).toEqual(expect.arrayContaining([expect.stringContaining(`${sb()}/providers/Microsoft.Authorization/roleDefinitions`)]));

  const apply = await cli(emu, ['apply', '--policies', tree]);
  expect(apply.code).toBe(1);
  expect(apply.stderr).toContain('role "Azure Service Bus Sender" does not exist');
  expect(await writes()).toEqual([]);
}, 60000);

test('a role ARM has but this tool does not list offline: a lint warning only, and the plan resolves and assigns it', async () => {
  const tree = makeTree({ 'policy.xml': policy(), 'identity.yaml': manifest([['Azure Maps Data Reader', maps()]]) });
  const lint = await runCliAsync(['lint', '--policies', tree]);
  expect(lint.code).toBe(0);
  expect(lint.stdout).toMatch(/identity\.yaml:5:11: warning: role "Azure Maps Data Reader" is not one of the \d+ built-in roles known offline\. A custom role/);

  const apply = await cli(emu, ['apply', '--policies', tree]);
  expect(apply.stderr).not.toMatch(/error/i);
  expect(apply.code).toBe(0);
  expect(apply.stdout).toMatch(/create roleAssignments\/\S+ \(Azure Maps Data Reader for system\) … done/);
  const made = Object.values((await admin(emu, 'GET', 'state')).resources as Record<string, { value: any }>)
    .map((r) => r.value)
    .filter((v) => v?.type === 'Microsoft.Authorization/roleAssignments');
  expect(made.map((a) => [a.properties.roleDefinitionId.split('/').pop(), a.properties.scope])).toEqual([['423170ca-a8f6-4b0f-8487-9e4eb8f49bfa', maps()]]);
}, 60000);
