/**
 * ARM's 2024 token buckets in the emulator (src/emulator/throttle.ts): per principal and operation
 * type (reads, writes, deletes apart), a global subscription bucket of 15× across principals, the
 * `x-ms-ratelimit-remaining-subscription-*` headers; and several APIM services in one emulator
 * (one subscription): routing by the path's service name, ARM's 404 for an unknown one, role
 * assignments shared by all. Unit tests run on a fake clock; the HTTPS ones never wait for a refill.
 */
import { ArmThrottle, DEFAULT_THROTTLE, throttleOf } from '../../src/emulator/throttle.js';
import { FEDERATED_AUDIENCE } from '../../src/emulator/auth.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { admin, raw } from '../helpers/emulator.js';

const small = (o: Partial<typeof DEFAULT_THROTTLE> = {}) => throttleOf({ readBurst: 3, readRate: 1, writeBurst: 2, writeRate: 1, deleteBurst: 2, deleteRate: 1, globalFactor: 2, ...o });

describe('ArmThrottle (fake clock)', () => {
  test("ARM's documented numbers are the defaults", () => {
    expect(DEFAULT_THROTTLE).toEqual({ readBurst: 250, readRate: 25, writeBurst: 200, writeRate: 10, deleteBurst: 200, deleteRate: 10, globalFactor: 15 });
  });

  test('each principal has its own buckets; the headers count down; a spent bucket answers with Retry-After', () => {
    const t = 0;
    const th = new ArmThrottle(small(), () => t);
    const a = [1, 2, 3, 4].map(() => th.take('app-a', 'reads'));
    expect(a.map((o) => o.allowed)).toEqual([true, true, true, false]);
    expect(a.map((o) => o.headers['x-ms-ratelimit-remaining-subscription-reads'])).toEqual(['2', '1', '0', '0']);
    expect(a[3]).toMatchObject({ limitedBy: 'principal', retryAfterSeconds: 1 });
    // Another principal: a full bucket of its own; the global one (2 × 3 = 6) is shared.
    const b = th.take('app-b', 'reads');
    expect(b.allowed).toBe(true);
    expect(b.headers).toEqual({ 'x-ms-ratelimit-remaining-subscription-reads': '2', 'x-ms-ratelimit-remaining-subscription-global-reads': '2' });
  });

  test('the global bucket refuses once all principals together spent it, though each has tokens left', () => {
    const th = new ArmThrottle(small(), () => 0);
    for (const p of ['a', 'b']) for (let i = 0; i < 3; i++) expect(th.take(p, 'reads').allowed).toBe(true);
    const c = th.take('c', 'reads');
    expect(c).toMatchObject({ allowed: false, limitedBy: 'global' });
    expect(c.headers['x-ms-ratelimit-remaining-subscription-reads']).toBe('3');
    expect(c.headers['x-ms-ratelimit-remaining-subscription-global-reads']).toBe('0');
  });

  test('deletes are a bucket of their own, apart from writes; they refill at their rate', () => {
    let t = 0;
    const th = new ArmThrottle(small({ deleteRate: 0.5 }), () => t);
    expect(th.take('a', 'writes').allowed).toBe(true);
    expect(th.take('a', 'writes').allowed).toBe(true);
    expect(th.take('a', 'writes').allowed).toBe(false);
    const d = th.take('a', 'deletes');
    expect(d.allowed).toBe(true);
    expect(d.headers).toEqual({ 'x-ms-ratelimit-remaining-subscription-deletes': '1' });
    expect(th.take('a', 'deletes').allowed).toBe(true);
    const spent = th.take('a', 'deletes');
    expect(spent).toMatchObject({ allowed: false, retryAfterSeconds: 2 });
    t = 2000;
    expect(th.take('a', 'deletes').allowed).toBe(true);
  });

  test('off: never refuses, but still accounts (truthful headers)', () => {
    const th = new ArmThrottle(undefined, () => 0);
    let last;
    for (let i = 0; i < 260; i++) last = th.take('a', 'reads');
    expect(last!.allowed).toBe(true);
    expect(last!.headers['x-ms-ratelimit-remaining-subscription-reads']).toBe('0');
    expect(last!.headers['x-ms-ratelimit-remaining-subscription-global-reads']).toBe(String(250 * 15 - 250));
  });
});

describe('over HTTPS: principals, operation types, several services', () => {
  let emu: RunningEmulator;
  const OTHER_CLIENT = '00000000-0000-4000-8000-00000000b001';
  const sub = () => `/subscriptions/${emu.ready.subscriptionId}/resourceGroups/${emu.ready.resourceGroup}`;
  const svc = (name: string) => `${sub()}/providers/Microsoft.ApiManagement/service/${name}`;
  const api = '?api-version=2024-05-01';
  const policy = (tag: string) => `<policies><inbound><set-header name="x-svc" exists-action="override"><value>${tag}</value></set-header></inbound><backend /><outbound /><on-error /></policies>`;

  /** An ARM access token for `clientId` from the fake Entra (a GitHub ID token as the client assertion). */
  async function tokenFor(clientId: string): Promise<string> {
    const body = new URLSearchParams({
      client_id: clientId,
      scope: 'https://management.azure.com/.default',
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: emu.auth.issueIdToken(FEDERATED_AUDIENCE),
    }).toString();
    const r = await raw(emu, 'POST', `${emu.ready.env.AZURE_AUTHORITY_HOST}/${emu.ready.tenantId}/oauth2/v2.0/token`, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    if (r.status !== 200) throw new Error(`token for ${clientId}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.access_token;
  }
  const call = (token: string, method: string, path: string, body?: unknown) =>
    raw(emu, method, `${emu.ready.armEndpoint}${path}`, {
      headers: { Authorization: `Bearer ${token}`, 'content-type': 'application/json', 'If-Match': '*' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  beforeAll(async () => {
    emu = await startEmulator({
      services: [
        { name: 'apim-a', seed: { policies: [{ address: 'policies/policy', xml: policy('a') }], namedValues: [], backends: [], apis: [], operations: [], products: [], workspaces: [] } },
        { name: 'apim-b', seed: { policies: [{ address: 'policies/policy', xml: policy('b') }], namedValues: [], backends: [], apis: [], operations: [], products: [], workspaces: [] } },
      ],
      clientIds: [OTHER_CLIENT],
    });
  });
  afterAll(async () => {
    await emu?.close();
  });

  test('each service answers from its own state; the first is the default; an unknown one is ARM 404 ResourceNotFound', async () => {
    expect(emu.ready.serviceName).toBe('apim-a');
    expect([...emu.services.keys()]).toEqual(['apim-a', 'apim-b']);
    const token = await tokenFor(emu.ready.clientId);
    const a = await call(token, 'GET', `${svc('apim-a')}/policies/policy${api}&format=xml`);
    const b = await call(token, 'GET', `${svc('APIM-B')}/policies/policy${api}&format=xml`);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(a.body.properties.value).toContain('<value>a</value>');
    expect(b.body.properties.value).toContain('<value>b</value>');
    const put = await call(token, 'PUT', `${svc('apim-b')}/apis/x/policies/policy${api}`, { properties: { format: 'xml', value: policy('bx') } });
    // A policy under an API the service does not have may be refused (parents must exist); either way apim-a is untouched.
    expect([200, 201, 404]).toContain(put.status);
    expect(emu.services.get('apim-a')!.resources.has('apis/x/policies/policy')).toBe(false);

    const missing = await call(token, 'GET', `${svc('apim-zz')}/policies/policy${api}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('ResourceNotFound');
    expect(missing.body.error.message).toContain("'Microsoft.ApiManagement/service/apim-zz'");

    const stateB = await admin(emu, 'GET', 'state?service=apim-b');
    expect(stateB.resources['policies/policy'].value).toContain('<value>b</value>');
    const stateDefault = await admin(emu, 'GET', 'state');
    expect(stateDefault.resources['policies/policy'].value).toContain('<value>a</value>');
    expect((await raw(emu, 'GET', `${emu.ready.adminUrl}state?service=nope`)).status).toBe(404);
  });

  test('role assignments are the subscription’s: one made at one service is listed from the other and at the subscription', async () => {
    const token = await tokenFor(emu.ready.clientId);
    const name = '6b3f2a9e-1c4d-4e5f-8a7b-9c0d1e2f3a4b';
    const scope = svc('apim-a');
    const put = await call(token, 'PUT', `${scope}/providers/Microsoft.Authorization/roleAssignments/${name}?api-version=2022-04-01`, {
      properties: {
        roleDefinitionId: `/subscriptions/${emu.ready.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c`,
        principalId: '11111111-2222-4333-8444-555555555555',
        principalType: 'ServicePrincipal',
      },
    });
    expect(put.status).toBe(201);
    const atSub = await call(token, 'GET', `/subscriptions/${emu.ready.subscriptionId}/providers/Microsoft.Authorization/roleAssignments?api-version=2022-04-01`);
    expect(atSub.body.value.map((r: { name: string }) => r.name)).toContain(name);
    expect(emu.services.get('apim-b')!.resources.has(`roleassignments/${name}`)).toBe(true);
  });

  test('429 per principal with Retry-After and headers; another principal still served; deletes apart from writes', async () => {
    await admin(emu, 'POST', 'faults', { throttle: { readBurst: 2, readRate: 0.01, writeBurst: 1, writeRate: 0.01, deleteBurst: 1, deleteRate: 0.01 } });
    const mine = await tokenFor(emu.ready.clientId);
    const other = await tokenFor(OTHER_CLIENT);
    const url = `${svc('apim-b')}/policies/policy${api}&format=xml`;
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push(await call(mine, 'GET', url));
    expect(statuses.map((r) => r.status)).toEqual([200, 200, 429]);
    expect(statuses[1]!.headers['x-ms-ratelimit-remaining-subscription-reads']).toBe('0');
    expect(statuses[0]!.headers['x-ms-ratelimit-remaining-subscription-global-reads']).toBe(String(2 * 15 - 1));
    expect(Number(statuses[2]!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(statuses[2]!.body.error).toMatchObject({ code: 'TooManyRequests' });
    expect(statuses[2]!.body.error.message).toMatch(/operation type - Read/);
    const theirs = await call(other, 'GET', url);
    expect(theirs.status).toBe(200);
    expect(theirs.headers['x-ms-ratelimit-remaining-subscription-reads']).toBe('1');

    // One write spends the write bucket; a DELETE still goes through on the deletes bucket; a POST (listValue) is a write.
    const w = await call(mine, 'PUT', `${svc('apim-b')}/policies/policy${api}`, { properties: { format: 'xml', value: policy('b2') } });
    expect(w.status).toBe(200);
    expect(w.headers['x-ms-ratelimit-remaining-subscription-writes']).toBe('0');
    const d = await call(mine, 'DELETE', `${svc('apim-b')}/policies/policy${api}`);
    expect(d.status).toBe(200);
    expect(d.headers['x-ms-ratelimit-remaining-subscription-deletes']).toBe('0');
    expect(d.headers['x-ms-ratelimit-remaining-subscription-writes']).toBeUndefined();
    const post = await call(mine, 'POST', `${svc('apim-b')}/namedValues/nv/listValue${api}`);
    expect(post.status).toBe(429);
    expect(post.body.error.message).toMatch(/operation type - Write/);
    const log = (await admin(emu, 'GET', 'requests')).log as Array<{ status: number; principal?: string }>;
    expect(log.filter((e) => e.status === 429 && e.principal === emu.ready.clientId.toLowerCase()).length).toBe(2);
    await admin(emu, 'POST', 'faults', {});
  });
});
