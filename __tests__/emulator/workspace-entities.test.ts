/**
 * Workspace named values and backends in the emulator, as the 2024-05-01 specs describe them
 * (`apimworkspaces.json`: `WorkspaceNamedValue_*`, the same contract as service-level named values —
 * long-running PUT/PATCH, If-Match required on PATCH and DELETE, listValue, refreshSecret;
 * `apimworkspacebackends.json`: `WorkspaceBackend_*`, synchronous like service-level backends).
 * Driven through the `RouteHandler` seam and over HTTPS with the real `@azure/arm-apimanagement`
 * client's `workspaceNamedValue` / `workspaceBackend` groups.
 */
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { storeEntity } from '../../src/emulator/arm-entities.js';
import { seedState } from '../../src/emulator/seed.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { createEmulatorState } from '../../src/emulator/state.js';
import type { EmulatorResponse, EmulatorState } from '../../src/emulator/types.js';
import type { LiveSeed } from '../../src/model/seed.js';
import { emulatorClient } from '../helpers/emulator.js';
import { BASE, routeCall as call } from '../helpers/routes.js';

const S = `/subscriptions/sub-1/resourceGroups/rg-1/providers/Microsoft.ApiManagement/service/apim-1`;
const W = `${S}/workspaces/team-a`;
const V = '2024-05-01';

type Body = Record<string, any>;

const emptyState = () => createEmulatorState({ subscriptionId: 'sub-1', resourceGroup: 'rg-1', serviceName: 'apim-1', tenantId: 'tenant-1', clientId: 'client-1' });

/** A state whose instance has the workspace team-a (and no other). */
function freshState(): EmulatorState {
  const state = emptyState();
  storeEntity(state, 'workspaces/team-a');
  return state;
}

/** Completes a long-running answer by polling the operation it names; returns the final status. */
function complete(state: EmulatorState, res: EmulatorResponse): string {
  const url = res.headers?.['Azure-AsyncOperation'];
  if (!url) throw new Error(`no Azure-AsyncOperation in ${JSON.stringify(res)}`);
  for (let i = 0; i < 5; i++) {
    const status = (call(state, 'GET', url.slice(BASE.length)).body as Body).status as string;
    if (status !== 'InProgress') return status;
  }
  throw new Error('operation never completed');
}

const at = (scope: string, collection: string, id = '', action = '') => `${scope}/${collection}${id ? `/${id}` : ''}${action ? `/${action}` : ''}?api-version=${V}`;

describe('workspace named values through the route seam', () => {
  test('PUT is long-running as at service level; the entity lives under the workspace, apart from a service-level one of the same id', () => {
    const state = freshState();
    const ws = call(state, 'PUT', at(W, 'namedValues', 'region'), { body: { properties: { displayName: 'region', value: 'ws-value' } } });
    expect(ws.status).toBe(201);
    expect((ws.body as Body).properties.provisioningState).toBe('InProgress');
    expect(ws.headers?.Location).toContain(`${W}/namedValues/region?`);
    expect(call(state, 'GET', at(W, 'namedValues', 'region')).status).toBe(404);
    expect(complete(state, ws)).toBe('Succeeded');
    expect(complete(state, call(state, 'PUT', at(S, 'namedValues', 'region'), { body: { properties: { displayName: 'region', value: 'service-value' } } }))).toBe('Succeeded');

    const got = call(state, 'GET', at(W, 'namedValues', 'region'));
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ id: `${W}/namedValues/region`, type: 'Microsoft.ApiManagement/service/workspaces/namedValues', name: 'region', properties: { value: 'ws-value' } });
    expect((call(state, 'GET', at(S, 'namedValues', 'region')).body as Body).properties.value).toBe('service-value');
    // Each list holds only its own scope's entities.
    expect((call(state, 'GET', at(W, 'namedValues')).body as Body).value.map((c: Body) => c.id)).toEqual([`${W}/namedValues/region`]);
    expect((call(state, 'GET', at(S, 'namedValues')).body as Body).value.map((c: Body) => c.id)).toEqual([`${S}/namedValues/region`]);

    // DELETE needs If-Match and removes only the workspace's.
    expect(call(state, 'DELETE', at(W, 'namedValues', 'region')).status).toBe(400);
    expect(call(state, 'DELETE', at(W, 'namedValues', 'region'), { headers: { 'If-Match': '*' } }).status).toBe(200);
    expect(call(state, 'GET', at(W, 'namedValues', 'region')).status).toBe(404);
    expect(call(state, 'GET', at(S, 'namedValues', 'region')).status).toBe(200);
  });

  test("a secret's value is only in listValue; PATCH needs If-Match and is long-running (202)", () => {
    const state = freshState();
    complete(state, call(state, 'PUT', at(W, 'namedValues', 'token'), { body: { properties: { displayName: 'token', value: 's3cret', secret: true } } }));
    expect((call(state, 'GET', at(W, 'namedValues', 'token')).body as Body).properties).not.toHaveProperty('value');
    expect(call(state, 'POST', at(W, 'namedValues', 'token', 'listValue')).body).toEqual({ value: 's3cret' });
    expect(call(state, 'PATCH', at(W, 'namedValues', 'token'), { body: { properties: { value: 'new' } } }).status).toBe(400);
    const patched = call(state, 'PATCH', at(W, 'namedValues', 'token'), { body: { properties: { value: 'new' } }, headers: { 'If-Match': '*' } });
    expect(patched.status).toBe(202);
    expect(complete(state, patched)).toBe('Succeeded');
    expect(call(state, 'POST', at(W, 'namedValues', 'token', 'listValue')).body).toEqual({ value: 'new' });
  });

  test('every call under a workspace the instance does not have is 404 NotFound (HEAD without a body); nothing is stored', () => {
    const state = freshState();
    for (const [method, url, body] of [
      ['PUT', at(`${S}/workspaces/nope`, 'namedValues', 'x'), { properties: { displayName: 'x', value: 'v' } }],
      ['GET', at(`${S}/workspaces/nope`, 'namedValues', 'x'), undefined],
      ['GET', at(`${S}/workspaces/nope`, 'namedValues'), undefined],
      ['POST', at(`${S}/workspaces/nope`, 'namedValues', 'x', 'listValue'), undefined],
      ['DELETE', at(`${S}/workspaces/nope`, 'namedValues', 'x'), undefined],
      ['PUT', at(`${S}/workspaces/nope`, 'backends', 'x'), { properties: { url: 'https://x.example', protocol: 'http' } }],
      ['GET', at(`${S}/workspaces/nope`, 'backends'), undefined],
    ] as const) {
      const res = call(state, method, url, { ...(body ? { body } : {}), headers: { 'If-Match': '*' } });
      expect([method, url, res.status, (res.body as Body).error.code]).toEqual([method, url, 404, 'NotFound']);
    }
    expect(call(state, 'HEAD', at(`${S}/workspaces/nope`, 'backends', 'x'))).toEqual({ status: 404 });
    expect([...state.resources.keys()]).toEqual(['workspaces/team-a']);
  });
});

describe('workspace backends through the route seam', () => {
  test('PUT is synchronous (201 then 200); service and workspace backends of the same id are kept apart; PATCH and DELETE need If-Match', () => {
    const state = freshState();
    const created = call(state, 'PUT', at(W, 'backends', 'orders'), { body: { properties: { url: 'https://ws.example.com', protocol: 'http' } } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: `${W}/backends/orders`, type: 'Microsoft.ApiManagement/service/workspaces/backends', properties: { url: 'https://ws.example.com' } });
    expect(call(state, 'PUT', at(W, 'backends', 'orders'), { body: { properties: { url: 'https://ws2.example.com', protocol: 'http' } } }).status).toBe(200);
    expect(call(state, 'PUT', at(S, 'backends', 'orders'), { body: { properties: { url: 'https://svc.example.com', protocol: 'http' } } }).status).toBe(201);
    expect((call(state, 'GET', at(W, 'backends', 'orders')).body as Body).properties.url).toBe('https://ws2.example.com');
    expect((call(state, 'GET', at(S, 'backends', 'orders')).body as Body).properties.url).toBe('https://svc.example.com');
    expect((call(state, 'GET', at(W, 'backends') + "&$filter=startswith(url,'https://ws')").body as Body).value.map((c: Body) => c.id)).toEqual([`${W}/backends/orders`]);
    expect(call(state, 'PATCH', at(W, 'backends', 'orders'), { body: { properties: { title: 'T' } } }).status).toBe(400);
    expect(call(state, 'DELETE', at(W, 'backends', 'orders')).status).toBe(400);
    expect(call(state, 'DELETE', at(W, 'backends', 'orders'), { headers: { 'If-Match': '*' } }).status).toBe(200);
    expect(call(state, 'GET', at(W, 'backends', 'orders')).status).toBe(404);
    expect(call(state, 'GET', at(S, 'backends', 'orders')).status).toBe(200);
  });
});

describe('seeding workspace named values and backends', () => {
  const seed = (part: Partial<LiveSeed>): LiveSeed => ({
    policies: [],
    apis: [],
    operations: [],
    products: [],
    workspaces: [{ address: 'workspaces/team-a' }],
    namedValues: [],
    backends: [],
    ...part,
  });

  test('stored under their workspace; one for an undeclared workspace, or one ARM would refuse, names its file', () => {
    const state = emptyState();
    seedState(
      state,
      seed({
        namedValues: [{ name: 'region', workspace: 'team-a', properties: { value: 'ws' } }],
        backends: [{ name: 'orders', workspace: 'team-a', properties: { url: 'https://ws.example.com', protocol: 'http' } }],
      }),
    );
    expect((call(state, 'GET', at(W, 'namedValues', 'region')).body as Body).properties).toMatchObject({ displayName: 'region', value: 'ws' });
    expect(call(state, 'GET', at(S, 'namedValues', 'region')).status).toBe(404);
    expect(call(state, 'GET', at(W, 'backends', 'orders')).status).toBe(200);
    expect(() => seedState(emptyState(), seed({ namedValues: [{ name: 'x', workspace: 'nope', properties: { value: 'v' } }] }))).toThrow(
      /cannot seed workspaces\/nope\/named values\/x\/namedValueInformation\.json: workspace nope is not declared/,
    );
    expect(() => seedState(emptyState(), seed({ backends: [{ name: 'b', workspace: 'team-a', properties: { url: 'https://x.example' } }] }))).toThrow(
      /backend 'b' \(workspaces\/team-a\/backends\/b\/backendInformation\.json\): protocol is required/,
    );
  });
});

describe('over HTTPS with the real client (workspaceNamedValue, workspaceBackend)', () => {
  let emu: RunningEmulator;
  let client: ApiManagementClient;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0, seed: { policies: [], apis: [], operations: [], products: [], workspaces: [{ address: 'workspaces/team-a' }], namedValues: [], backends: [] } });
    client = emulatorClient(emu);
  });
  afterAll(async () => {
    await emu?.close();
  });

  test('workspaceNamedValue create (long-running) / get / listValue / update / listByService / delete; a missing workspace is a 404', async () => {
    const rg = emu.ready.resourceGroup;
    const svc = emu.ready.serviceName;
    const created = await client.workspaceNamedValue.beginCreateOrUpdateAndWait(rg, svc, 'team-a', 'ws-secret', { displayName: 'ws-secret', value: 'v1', secret: true }, { updateIntervalInMs: 10 });
    expect(created.provisioningState).toBe('Succeeded');
    const got = await client.workspaceNamedValue.get(rg, svc, 'team-a', 'ws-secret');
    expect(got.value).toBeUndefined();
    expect((await client.workspaceNamedValue.listValue(rg, svc, 'team-a', 'ws-secret')).value).toBe('v1');
    await client.workspaceNamedValue.beginUpdateAndWait(rg, svc, 'team-a', 'ws-secret', got.eTag!, { value: 'v2' }, { updateIntervalInMs: 10 });
    expect((await client.workspaceNamedValue.listValue(rg, svc, 'team-a', 'ws-secret')).value).toBe('v2');
    const listed: string[] = [];
    for await (const nv of client.workspaceNamedValue.listByService(rg, svc, 'team-a')) listed.push(nv.name!);
    expect(listed).toEqual(['ws-secret']);
    await expect(client.namedValue.get(rg, svc, 'ws-secret')).rejects.toMatchObject({ statusCode: 404 });
    await client.workspaceNamedValue.delete(rg, svc, 'team-a', 'ws-secret', '*');
    await expect(client.workspaceNamedValue.get(rg, svc, 'team-a', 'ws-secret')).rejects.toMatchObject({ statusCode: 404 });
    await expect(client.workspaceNamedValue.beginCreateOrUpdateAndWait(rg, svc, 'nope', 'x', { displayName: 'x', value: 'v' }, { updateIntervalInMs: 10 })).rejects.toMatchObject({
      statusCode: 404,
      code: 'NotFound',
    });
  });

  test('workspaceBackend createOrUpdate / get / update / listByWorkspace / delete', async () => {
    const rg = emu.ready.resourceGroup;
    const svc = emu.ready.serviceName;
    const created = await client.workspaceBackend.createOrUpdate(rg, svc, 'team-a', 'ws-backend', { url: 'https://ws.example.com', protocol: 'http' });
    expect(created.eTag).toMatch(/^".+"$/);
    const updated = await client.workspaceBackend.update(rg, svc, 'team-a', 'ws-backend', created.eTag!, { title: 'WS' });
    expect(updated.title).toBe('WS');
    const listed: string[] = [];
    for await (const b of client.workspaceBackend.listByWorkspace(rg, svc, 'team-a')) listed.push(b.name!);
    expect(listed).toEqual(['ws-backend']);
    await expect(client.workspaceBackend.delete(rg, svc, 'team-a', 'ws-backend', created.eTag!)).rejects.toMatchObject({ statusCode: 412 });
    await client.workspaceBackend.delete(rg, svc, 'team-a', 'ws-backend', '*');
    await expect(client.workspaceBackend.get(rg, svc, 'team-a', 'ws-backend')).rejects.toMatchObject({ statusCode: 404 });
  });
});
