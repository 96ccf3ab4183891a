/**
 * The wait for a role assignment to reach Key Vault (plan/key-vault-wait.ts): its schedule, its
 * setting, and which failures it retries. The process tests (cli/keyvault-live.test.ts) run it
 * against the emulator.
 */
import { Conflict, OperationFailed } from '../../src/model/live-errors.js';
import { DEFAULT_RBAC_WAIT_SECONDS, rbacWaitSeconds, waits, writeWaitingForKeyVault, writesKeyVaultValue } from '../../src/plan/key-vault-wait.js';
import type { Change } from '../../src/model/index.js';

const noSleep = async () => undefined;

test('waits 10, 20, 40, then 60 s, the last cut to the budget; nothing for a budget of 0', () => {
  expect([...waits(600)]).toEqual([10, 20, 40, 60, 60, 60, 60, 60, 60, 60, 60, 50]);
  expect([...waits(600)].reduce((a, b) => a + b, 0)).toBe(600);
  expect([...waits(15)]).toEqual([10, 5]);
  expect([...waits(1)]).toEqual([1]);
  expect([...waits(0)]).toEqual([]);
});

test('APIM_POLICY_RBAC_WAIT_SECONDS: whole seconds from 0 to 3600; unset or empty is the default; anything else says what to give', () => {
  expect(rbacWaitSeconds({})).toBe(DEFAULT_RBAC_WAIT_SECONDS);
  expect(rbacWaitSeconds({ APIM_POLICY_RBAC_WAIT_SECONDS: ' ' })).toBe(DEFAULT_RBAC_WAIT_SECONDS);
  expect(rbacWaitSeconds({ APIM_POLICY_RBAC_WAIT_SECONDS: '0' })).toBe(0);
  expect(rbacWaitSeconds({ APIM_POLICY_RBAC_WAIT_SECONDS: '3600' })).toBe(3600);
  for (const bad of ['3601', '-1', '1.5', '10m', 'ten'])
    expect(rbacWaitSeconds({ APIM_POLICY_RBAC_WAIT_SECONDS: bad })).toEqual({ error: expect.stringContaining(`APIM_POLICY_RBAC_WAIT_SECONDS is "${bad}"`) });
});

test('only a Key Vault named value that is created or updated is written again', () => {
  const nv = (properties: object, action: Change['action'] = 'create'): Change => ({
    address: 'namedValues/a',
    action,
    resourceType: 'namedValue',
    desired: { xml: JSON.stringify(properties), sha256: 'x' },
  });
  expect(writesKeyVaultValue(nv({ displayName: 'a', keyVault: { secretIdentifier: 'https://kv.vault.azure.net/secrets/s' } }))).toBe(true);
  expect(writesKeyVaultValue(nv({ displayName: 'a', keyVault: { secretIdentifier: 'https://kv.vault.azure.net/secrets/s' } }, 'update'))).toBe(true);
  expect(writesKeyVaultValue(nv({ displayName: 'a', value: 'x' }))).toBe(false);
  expect(writesKeyVaultValue({ address: 'backends/b', action: 'create', resourceType: 'backend', desired: { xml: '{"keyVault":{}}', sha256: 'x' } })).toBe(false);
  expect(writesKeyVaultValue({ address: 'namedValues/a', action: 'delete', resourceType: 'namedValue' })).toBe(false);
});

test('an operation that failed is written again after each wait until it succeeds; the waits are reported', async () => {
  let tries = 0;
  const waited: Array<[number, number]> = [];
  const slept: number[] = [];
  const result = await writeWaitingForKeyVault(
    async () => {
      tries += 1;
      if (tries < 3) throw new OperationFailed('PUT namedValues/a: ended Failed');
      return 'written';
    },
    { budget: 600, onWait: (s, w) => waited.push([s, w]), sleep: async (s) => void slept.push(s) },
  );
  expect(result).toBe('written');
  expect(tries).toBe(3);
  expect(waited).toEqual([
    [10, 0],
    [20, 10],
  ]);
  expect(slept).toEqual([10, 20]);
});

test('the budget spent: the last failure, with how long apply waited and what to set', async () => {
  let tries = 0;
  const run = writeWaitingForKeyVault(
    async () => {
      tries += 1;
      throw new OperationFailed('PUT namedValues/a: ended Failed: Forbidden');
    },
    { budget: 30, onWait: () => undefined, sleep: noSleep },
  );
  await expect(run).rejects.toThrow(/^PUT namedValues\/a: ended Failed: Forbidden — Key Vault still refused after 30 s of waiting .*APIM_POLICY_RBAC_WAIT_SECONDS \(now 30\)\.$/);
  await expect(run).rejects.toBeInstanceOf(OperationFailed);
  expect(tries).toBe(3);
});

test('any other failure is thrown at once; so is one after the signal fires', async () => {
  let tries = 0;
  await expect(
    writeWaitingForKeyVault(
      async () => {
        tries += 1;
        throw new Conflict('PUT namedValues/a: 409');
      },
      { budget: 600, onWait: () => undefined, sleep: noSleep },
    ),
  ).rejects.toBeInstanceOf(Conflict);
  expect(tries).toBe(1);

  const abort = new AbortController();
  tries = 0;
  await expect(
    writeWaitingForKeyVault(
      async () => {
        tries += 1;
        throw new OperationFailed('ended Failed');
      },
      { budget: 600, signal: abort.signal, onWait: () => abort.abort('SIGTERM'), sleep: noSleep },
    ),
  ).rejects.toThrow('ended Failed');
  expect(tries).toBe(1);
});
