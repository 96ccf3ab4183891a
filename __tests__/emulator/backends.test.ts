/**
 * Backends in the emulator, as `apimbackends.json` (2024-05-01) describes them: driven through the
 * `RouteHandler` seam (the policy routes, which ask the backend routes first), and once over HTTPS
 * with the real `@azure/arm-apimanagement` client.
 */
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { requestActions } from '../../src/emulator/rbac-enforce.js';
import { seedState } from '../../src/emulator/seed.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { createEmulatorState } from '../../src/emulator/state.js';
import type { EmulatorState } from '../../src/emulator/types.js';
import type { LiveSeed } from '../../src/model/seed.js';
import { emulatorClient } from '../helpers/emulator.js';
import { routeCall as call } from '../helpers/routes.js';

const SUB = 'sub-1';
const S = `/subscriptions/${SUB}/resourceGroups/rg-1/providers/Microsoft.ApiManagement/service/apim-1`;
const V = '2024-05-01';

type Body = Record<string, any>;

function freshState(): EmulatorState {
  return createEmulatorState({ subscriptionId: SUB, resourceGroup: 'rg-1', serviceName: 'apim-1', tenantId: 'tenant-1', clientId: 'client-1' });
}

const be = (id: string) => `${S}/backends/${id}?api-version=${V}`;
const put = (state: EmulatorState, id: string, properties: Body, headers: Record<string, string> = {}) => call(state, 'PUT', be(id), { body: { properties }, headers });
const get = (state: EmulatorState, id: string) => call(state, 'GET', be(id));

describe('backend CRUD through the route seam', () => {
  test('PUT is synchronous: 201 with an ETag, then 200 with a new one; GET answers what was sent plus the tls defaults the spec declares', () => {
    const state = freshState();
    const created = put(state, 'orders', { url: 'https://orders.example.com/api', protocol: 'http', title: 'Orders' });
    expect(created.status).toBe(201);
    expect(created.headers!.ETag).toMatch(/^".+"$/);
    const got = get(state, 'orders');
    expect(got.status).toBe(200);
    expect(got.headers!.ETag).toBe(created.headers!.ETag);
    expect((got.body as Body).properties).toEqual({
      url: 'https://orders.example.com/api',
      protocol: 'http',
      title: 'Orders',
      tls: { validateCertificateChain: true, validateCertificateName: true },
    });
    expect((got.body as Body).type).toBe('Microsoft.ApiManagement/service/backends');
    const updated = put(state, 'orders', { url: 'https://orders2.example.com', protocol: 'soap', tls: { validateCertificateName: false } });
    expect(updated.status).toBe(200);
    expect(updated.headers!.ETag).not.toBe(created.headers!.ETag);
    // PUT replaces: the title is gone; tls keeps the sent field and defaults the other.
    expect((get(state, 'orders').body as Body).properties).toEqual({
      url: 'https://orders2.example.com',
      protocol: 'soap',
      tls: { validateCertificateChain: true, validateCertificateName: false },
    });
  });

  test.each([
    ['no url', { protocol: 'http' }, 'url'],
    ['a relative url', { url: '/orders', protocol: 'http' }, 'url'],
    ['an url of 2001 characters', { url: `https://x.example/${'a'.repeat(1990)}`, protocol: 'http' }, 'url'],
    ['no protocol', { url: 'https://x.example' }, 'protocol'],
    ['protocol https', { url: 'https://x.example', protocol: 'https' }, 'protocol'],
    ['a title of 301 characters', { url: 'https://x.example', protocol: 'http', title: 't'.repeat(301) }, 'title'],
    ['type Multi', { url: 'https://x.example', protocol: 'http', type: 'Multi' }, 'type'],
    ['tls.validateCertificateChain "yes"', { url: 'https://x.example', protocol: 'http', tls: { validateCertificateChain: 'yes' } }, 'tls.validateCertificateChain'],
    ['an unknown property', { url: 'https://x.example', protocol: 'http', uri: 'https://x.example' }, 'uri'],
  ])('PUT with %s is a 400 ValidationError naming the field, and nothing is stored', (_what, properties, target) => {
    const state = freshState();
    const res = put(state, 'b', properties);
    expect(res.status).toBe(400);
    expect((res.body as Body).error.code).toBe('ValidationError');
    expect((res.body as Body).error.details[0].target).toBe(target);
    expect(get(state, 'b').status).toBe(404);
  });

  test('a Service Fabric url (fabric:/app/service) is an absolute URI', () => {
    expect(put(freshState(), 'sf', { url: 'fabric:/mytestapp/mytestservice', protocol: 'http' }).status).toBe(201);
  });

  test('PATCH needs If-Match, merges into what is stored, and is checked like a PUT', () => {
    const state = freshState();
    const etag = put(state, 'orders', { url: 'https://orders.example.com', protocol: 'http', description: 'd' }).headers!.ETag!;
    expect(call(state, 'PATCH', be('orders'), { body: { properties: { title: 'T' } } }).status).toBe(400);
    expect(call(state, 'PATCH', be('orders'), { body: { properties: { title: 'T' } }, headers: { 'If-Match': '"stale"' } }).status).toBe(412);
    expect(call(state, 'PATCH', be('orders'), { body: { properties: { protocol: 'ftp' } }, headers: { 'If-Match': etag } }).status).toBe(400);
    const patched = call(state, 'PATCH', be('orders'), { body: { properties: { title: 'T' } }, headers: { 'If-Match': etag } });
    expect(patched.status).toBe(200);
    expect((get(state, 'orders').body as Body).properties).toMatchObject({ url: 'https://orders.example.com', protocol: 'http', description: 'd', title: 'T' });
    expect(call(state, 'PATCH', be('absent'), { body: { properties: { title: 'T' } }, headers: { 'If-Match': '*' } }).status).toBe(404);
  });

  test('ETags: stale If-Match on PUT is 412; DELETE requires If-Match; * matches; HEAD answers the ETag', () => {
    const state = freshState();
    put(state, 'orders', { url: 'https://orders.example.com', protocol: 'http' });
    expect(put(state, 'orders', { url: 'https://changed.example.com', protocol: 'http' }, { 'If-Match': '"stale"' }).status).toBe(412);
    expect((get(state, 'orders').body as Body).properties.url).toBe('https://orders.example.com');
    expect(call(state, 'HEAD', be('orders')).headers!.ETag).toBe(get(state, 'orders').headers!.ETag);
    expect(call(state, 'DELETE', be('orders')).status).toBe(400);
    expect(call(state, 'DELETE', be('orders'), { headers: { 'If-Match': '"stale"' } }).status).toBe(412);
    expect(call(state, 'DELETE', be('orders'), { headers: { 'If-Match': '*' } }).status).toBe(200);
    expect(call(state, 'HEAD', be('orders')).status).toBe(404);
    expect(call(state, 'DELETE', be('orders'), { headers: { 'If-Match': '*' } }).status).toBe(204);
  });

  test('list with $filter on name, title and url; other fields are a 400', () => {
    const state = freshState();
    put(state, 'orders', { url: 'https://orders.example.com', protocol: 'http', title: 'Orders' });
    put(state, 'billing', { url: 'https://billing.example.com', protocol: 'http' });
    const names = (filter: string) => (call(state, 'GET', `${S}/backends?api-version=${V}&$filter=${encodeURIComponent(filter)}`).body as Body).value.map((v: Body) => v.name);
    expect(names("name eq 'billing'")).toEqual(['billing']);
    expect(names("contains(url,'orders')")).toEqual(['orders']);
    expect(names("title eq 'Orders'")).toEqual(['orders']);
    expect(call(state, 'GET', `${S}/backends?api-version=${V}&$filter=${encodeURIComponent("protocol eq 'http'")}`).status).toBe(400);
  });

  test.each([
    ['PUT', 'Microsoft.ApiManagement/service/backends/write'],
    ['PATCH', 'Microsoft.ApiManagement/service/backends/write'],
    ['DELETE', 'Microsoft.ApiManagement/service/backends/delete'],
    ['HEAD', 'Microsoft.ApiManagement/service/backends/read'],
    ['GET', 'Microsoft.ApiManagement/service/backends/read'],
  ])('%s on a backend needs %s', (method, action) => {
    expect(requestActions(method, `${S}/backends/b`)).toEqual({ action, scope: `${S}/backends/b` });
  });

  test('seeding: an APIOps backend is stored as its PUT would store it; one ARM would refuse names its file', () => {
    const seed = (backends: LiveSeed['backends']): LiveSeed => ({ policies: [], apis: [], operations: [], products: [], workspaces: [], namedValues: [], backends });
    const state = freshState();
    seedState(state, seed([{ name: 'orders', properties: { url: 'https://orders.example.com', protocol: 'http' } }]));
    expect((get(state, 'orders').body as Body).properties.tls).toEqual({ validateCertificateChain: true, validateCertificateName: true });
    expect(() => seedState(freshState(), seed([{ name: 'bad', properties: { url: 'https://x.example' } }]))).toThrow(/backend 'bad' \(backends\/bad\/backendInformation\.json\): protocol is required/);
  });
});

describe('over HTTPS with the real @azure/arm-apimanagement client', () => {
  let emu: RunningEmulator;
  let client: ApiManagementClient;

  beforeAll(async () => {
    emu = await startEmulator({ port: 0 });
    client = emulatorClient(emu);
  });
  afterAll(async () => {
    await emu?.close();
  });

  test('backend.createOrUpdate / get / update / delete', async () => {
    const rg = emu.ready.resourceGroup;
    const svc = emu.ready.serviceName;
    const statuses: number[] = [];
    const onResponse = (r: { status: number }) => statuses.push(r.status);
    const created = await client.backend.createOrUpdate(rg, svc, 'sdk-backend', { url: 'https://sdk.example.com', protocol: 'http', description: 'from the SDK' }, { onResponse });
    expect(statuses).toEqual([201]);
    expect(created.eTag).toMatch(/^".+"$/);
    const got = await client.backend.get(rg, svc, 'sdk-backend');
    expect(got.url).toBe('https://sdk.example.com');
    expect(got.tls).toEqual({ validateCertificateChain: true, validateCertificateName: true });
    const updated = await client.backend.update(rg, svc, 'sdk-backend', got.eTag!, { title: 'SDK' });
    expect(updated.title).toBe('SDK');
    await expect(client.backend.delete(rg, svc, 'sdk-backend', got.eTag!)).rejects.toMatchObject({ statusCode: 412 });
    await client.backend.delete(rg, svc, 'sdk-backend', '*');
    const gone = await client.backend.get(rg, svc, 'sdk-backend').catch((e: { statusCode?: number }) => e);
    expect((gone as { statusCode?: number }).statusCode).toBe(404);
  });
});
