/**
 * Named values and backends by address (src/azure/entities.ts, reached through ArmPolicyStore's
 * dispatch): the real `@azure/arm-apimanagement` client over HTTPS against the emulator, with the
 * product's own scheduler and session. Reads keep ARM's properties as returned and a secret's value
 * only from `listValue`; a named value's PUT is a long-running operation (one accepted PUT, then
 * polls), a backend's is not; a stale If-Match is a PreconditionFailed; a lost poll answer is polled
 * again without sending the PUT again.
 */
import { ApiManagementClient, getContinuationToken } from '@azure/arm-apimanagement';
import { RestError, type PipelinePolicy } from '@azure/core-rest-pipeline';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { ArmPolicyStore, armClientOptions } from '../../src/azure/apim.js';
import type { ArmSession } from '../../src/azure/arm-call.js';
import { ArmLiveReader } from '../../src/azure/live-reader.js';
import { ArmIdentityStore } from '../../src/azure/identity.js';
import { createArmScheduler } from '../../src/azure/scheduler.js';
import { PreconditionFailed } from '../../src/model/live-errors.js';
import { admin, emulatorCredential } from '../helpers/emulator.js';
import { makeTree, policy } from '../helpers/tree.js';

const SECRET = 'seeded-secret-value-7f3a';
const KV_URL = 'https://kv-store-test.vault.azure.net/secrets/api-key';
const info = (properties: object) => JSON.stringify({ properties });

type Stored = { resources: Record<string, { value: Record<string, unknown>; etag: string }> };
type Log = Array<{ method: string; path: string; status: number; ifMatch?: string }>;

let emu: RunningEmulator;
let session: ArmSession;
let store: ArmPolicyStore;
/** Requests whose answer the client loses after the emulator has handled them (a reset socket). */
let loseAnswer: (url: string) => boolean = () => false;

beforeEach(async () => {
  loseAnswer = () => false;
  emu = await startEmulator({
    seedDir: makeTree({
      'policy.xml': policy(),
      'named values/plain/namedValueInformation.json': info({ displayName: 'plain', value: 'hello', tags: ['t1'] }),
      'named values/secret/namedValueInformation.json': info({ displayName: 'secret', secret: true, value: SECRET }),
      'named values/kv/namedValueInformation.json': info({ displayName: 'kv', secret: true, keyVault: { secretIdentifier: KV_URL } }),
      'backends/orders/backendInformation.json': info({ url: 'https://orders.example.com/api', protocol: 'http', description: 'Orders' }),
    }),
  });
  const credential = emulatorCredential(emu);
  const target = { armEndpoint: emu.ready.armEndpoint, subscriptionId: emu.ready.subscriptionId, resourceGroup: emu.ready.resourceGroup, serviceName: emu.ready.serviceName };
  const scheduler = createArmScheduler();
  const lose: PipelinePolicy = {
    name: 'lose-answer',
    async sendRequest(request, next) {
      const response = await next(request);
      if (loseAnswer(request.url)) throw new RestError('socket hang up', { code: 'ECONNRESET', request });
      return response;
    },
  };
  const options = armClientOptions({ target, scheduler });
  const client = new ApiManagementClient(credential, target.subscriptionId, {
    ...options,
    additionalPolicies: [...options.additionalPolicies, { policy: lose, position: 'perRetry' }],
    tlsOptions: { ca: emu.caCert },
  });
  session = { target, client, scheduler, credential, continuationToken: getContinuationToken };
  store = new ArmPolicyStore(session);
});
afterEach(async () => {
  await emu?.close();
});

const state = async () => (await admin(emu, 'GET', 'state')) as Stored;
const log = async () => ((await admin(emu, 'GET', 'requests')).log as Log).filter((e) => /^\/subscriptions\//i.test(e.path));
const props = (xml: string) => JSON.parse(xml) as Record<string, unknown>;

test('read: a plain named value and a backend with their properties as ARM returned them and the ETag ARM holds; absent is undefined', async () => {
  const live = await state();
  const plain = (await store.read('namedValues/plain'))!;
  expect(props(plain.xml)).toEqual({ displayName: 'plain', tags: ['t1'], secret: false, value: 'hello', provisioningState: 'Succeeded' });
  expect(plain.etag).toBe(live.resources['namedValues/plain']!.etag);
  expect(plain.secret).toBeUndefined();
  const backend = (await store.read('backends/orders'))!;
  // The defaults ARM fills (tls) are part of what it returns: nothing dropped.
  expect(props(backend.xml)).toEqual({ url: 'https://orders.example.com/api', protocol: 'http', description: 'Orders', tls: { validateCertificateChain: true, validateCertificateName: true } });
  expect(backend.etag).toBe(live.resources['backends/orders']!.etag);
  expect(await store.read('namedValues/nope')).toBeUndefined();
  expect(await store.read('backends/nope')).toBeUndefined();
  // Nothing but GETs: a plain value needs no listValue.
  expect((await log()).map((e) => e.method)).toEqual(['GET', 'GET', 'GET', 'GET']);
});

test('read: a secret named value gets its value from listValue (a POST), never in xml; a Key Vault reference gets none', async () => {
  const secret = (await store.read('namedValues/secret'))!;
  expect(secret.secret).toBe(SECRET);
  expect(secret.xml).not.toContain(SECRET);
  expect(props(secret.xml)).toMatchObject({ displayName: 'secret', secret: true });
  const kv = (await store.read('namedValues/kv'))!;
  expect(kv.secret).toBeUndefined();
  expect(props(kv.xml)).toMatchObject({ secret: true, keyVault: { secretIdentifier: KV_URL, lastStatus: { code: expect.any(String) } } });
  const calls = (await log()).map((e) => `${e.method} ${e.path.split('/service/')[1]}`);
  expect(calls).toEqual([`GET ${emu.ready.serviceName}/namedValues/secret`, `POST ${emu.ready.serviceName}/namedValues/secret/listValue`, `GET ${emu.ready.serviceName}/namedValues/kv`]);
});

test('the live reader keeps the whole list items and lists the values of the secrets asked for (only those that exist, are secret and not Key Vault)', async () => {
  const reader = new ArmLiveReader(session, store, new ArmIdentityStore(session));
  const live = await reader.read({ entities: { secrets: ['namedValues/secret', 'namedValues/kv', 'namedValues/plain', 'namedValues/missing'] } });
  expect([...live.entities!.resources.keys()].sort()).toEqual(['backends/orders', 'namedvalues/kv', 'namedvalues/plain', 'namedvalues/secret']);
  expect(live.entities!.resources.get('namedvalues/plain')).toEqual({
    type: 'entity',
    kind: 'namedValue',
    address: 'namedValues/plain',
    id: 'plain',
    properties: { displayName: 'plain', tags: ['t1'], secret: false, value: 'hello', provisioningState: 'Succeeded' },
  });
  expect(live.entities!.resources.get('backends/orders')!.properties).toMatchObject({ url: 'https://orders.example.com/api', tls: { validateCertificateChain: true } });
  expect([...live.entitySecrets!]).toEqual([['namedvalues/secret', SECRET]]);
  expect([...live.names!.namedValues].sort()).toEqual(['kv', 'plain', 'secret']);
  expect((await log()).filter((e) => e.method === 'POST').map((e) => e.path.split('/').slice(-2).join('/'))).toEqual(['secret/listValue']);
});

test('named value put: one accepted PUT, polled to the end; the ETag returned is what ARM holds after; re-read gives what was written', async () => {
  const created = await store.put('namedValues/fresh', JSON.stringify({ displayName: 'fresh', value: 'v1', tags: [] }), {});
  const after = await state();
  expect(after.resources['namedValues/fresh']!.value).toMatchObject({ displayName: 'fresh', value: 'v1', secret: false });
  expect(created.etag).toBe(after.resources['namedValues/fresh']!.etag);
  // An update with the ETag it was read at; the secret's new value reaches ARM, the read shows it only in `secret`.
  const updated = await store.put('namedValues/fresh', JSON.stringify({ displayName: 'fresh', value: 'v2-secret', secret: true }), { ifMatch: created.etag! });
  const copy = (await store.read('namedValues/fresh'))!;
  expect(copy.etag).toBe(updated.etag);
  expect(copy.secret).toBe('v2-secret');
  expect(copy.xml).not.toContain('v2-secret');
  const puts = (await log()).filter((e) => e.method === 'PUT');
  expect(puts.map((e) => [e.status, e.ifMatch])).toEqual([
    [201, undefined],
    [200, created.etag],
  ]);
  expect((await log()).some((e) => e.method === 'GET' && /\/operationResults\//i.test(e.path))).toBe(true);
}, 60_000);

test('named value put: the answer to a poll is lost (socket reset); the poll is made again, the PUT is not sent again', async () => {
  let lost = 0;
  loseAnswer = (url) => /\/operationResults\//i.test(url) && lost++ === 0;
  const live = await state();
  const { etag } = await store.put('namedValues/plain', JSON.stringify({ displayName: 'plain', value: 'changed' }), { ifMatch: live.resources['namedValues/plain']!.etag });
  const after = await state();
  expect(after.resources['namedValues/plain']!.value).toMatchObject({ value: 'changed' });
  expect(etag).toBe(after.resources['namedValues/plain']!.etag);
  const calls = await log();
  expect(calls.filter((e) => e.method === 'PUT').length).toBe(1);
  expect(lost).toBeGreaterThanOrEqual(2);
  expect(calls.filter((e) => /\/operationResults\//i.test(e.path)).length).toBeGreaterThanOrEqual(2);
}, 60_000);

test('backend put is one synchronous PUT; a stale If-Match is PreconditionFailed (nothing changed); remove sends If-Match', async () => {
  const live = await state();
  const before = live.resources['backends/orders']!;
  const { etag } = await store.put('backends/orders', JSON.stringify({ url: 'https://orders.example.com/v2', protocol: 'http' }), { ifMatch: before.etag });
  const after = await state();
  expect(after.resources['backends/orders']!.value).toMatchObject({ url: 'https://orders.example.com/v2' });
  expect(etag).toBe(after.resources['backends/orders']!.etag);

  const stale = store.put('backends/orders', JSON.stringify({ url: 'https://orders.example.com/v3', protocol: 'http' }), { ifMatch: before.etag });
  await expect(stale).rejects.toBeInstanceOf(PreconditionFailed);
  await expect(stale).rejects.toThrow(/backends\/orders/);
  const staleNv = store.put('namedValues/plain', JSON.stringify({ displayName: 'plain', value: 'x' }), { ifMatch: '"not-the-etag"' });
  await expect(staleNv).rejects.toBeInstanceOf(PreconditionFailed);
  await expect(staleNv).rejects.toThrow(/namedValues\/plain/);
  const unchanged = await state();
  expect(unchanged.resources['backends/orders']!.etag).toBe(etag);
  expect(unchanged.resources['namedValues/plain']!.value).toMatchObject({ value: 'hello' });

  await store.remove('backends/orders', etag!);
  await store.remove('namedValues/secret', unchanged.resources['namedValues/secret']!.etag);
  const gone = await state();
  expect(gone.resources['backends/orders']).toBeUndefined();
  expect(gone.resources['namedValues/secret']).toBeUndefined();
  const deletes = (await log()).filter((e) => e.method === 'DELETE');
  expect(deletes.map((e) => e.ifMatch)).toEqual([etag, unchanged.resources['namedValues/secret']!.etag]);
  // Only the accepted backend PUT and the two refused ones: no LRO for backends, no retry of a 412.
  expect((await log()).filter((e) => e.method === 'PUT').map((e) => e.status)).toEqual([200, 412, 412]);
}, 60_000);

test('bad input is refused before anything is sent, naming the address and never quoting a value', async () => {
  await expect(store.put('backends/orders', JSON.stringify({ url: 'https://x.example.com', protocol: 'http', colour: 'red' }), {})).rejects.toThrow(
    /backends\/orders: "colour" is not a property of ARM's backend contract/,
  );
  const e = await store.put('namedValues/plain', `{"displayName": "plain", "value": "${SECRET}"`, {}).catch((x: Error) => x);
  expect(String(e)).toMatch(/namedValues\/plain: the properties to write are not JSON/);
  expect(String(e)).not.toContain(SECRET);
  expect((await log()).length).toBe(0);
});

test('workspace variants go to the workspace operation groups', async () => {
  // The emulator serves named values and backends at service level only: the path is what is checked.
  await store.read('workspaces/ws1/namedValues/nv1');
  await store.read('workspaces/ws1/backends/b1');
  expect((await log()).map((e) => e.path.split('/service/')[1])).toEqual([`${emu.ready.serviceName}/workspaces/ws1/namedValues/nv1`, `${emu.ready.serviceName}/workspaces/ws1/backends/b1`]);
});

test('a fragment write shares the mechanism: its first poll answer lost, the PUT is still sent once', async () => {
  let lost = 0;
  loseAnswer = (url) => /\/operationResults\//i.test(url) && lost++ === 0;
  const { etag } = await store.put('policyFragments/audit', '<fragment>\n    <set-header name="x-audit" exists-action="override">\n        <value>1</value>\n    </set-header>\n</fragment>\n', {});
  const after = await state();
  expect(after.resources['policyFragments/audit']!.etag).toBe(etag);
  expect((await log()).filter((e) => e.method === 'PUT').length).toBe(1);
  expect(lost).toBeGreaterThanOrEqual(2);
}, 60_000);
