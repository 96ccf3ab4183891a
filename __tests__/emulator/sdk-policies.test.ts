/**
 * Contract tests: the emulator's policy endpoints driven by the real `@azure/arm-apimanagement`
 * 10.0.0 client (AZURE-CONTRACT.md §0, §1, §2, §6). The throw-away CA is trusted through
 * `tlsOptions: { ca }`; tokens come from the Entra fake through `ClientAssertionCredential`.
 */
import type { TokenCredential } from '@azure/identity';
import { ApiManagementClient, getContinuationToken } from '@azure/arm-apimanagement';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { identityRoutes } from '../../src/emulator/arm-identity.js';
import { createPolicyRoutes, storePolicy } from '../../src/emulator/arm-policies.js';
import { storeEntity } from '../../src/emulator/arm-entities.js';
import { emulatorCredential, raw } from '../helpers/emulator.js';

const ARM_SCOPE = 'https://management.azure.com/.default';

function clientFor(emu: RunningEmulator, credential: TokenCredential = emulatorCredential(emu), maxRetries = 0): ApiManagementClient {
  return new ApiManagementClient(credential, emu.ready.subscriptionId, {
    endpoint: emu.ready.armEndpoint,
    credentialScopes: [ARM_SCOPE],
    tlsOptions: { ca: emu.caCert },
    retryOptions: { maxRetries, retryDelayInMs: 10, maxRetryDelayInMs: 50 },
  });
}

type LogEntry = { method: string; path: string; status: number; auth: string };
async function requestLog(emu: RunningEmulator): Promise<LogEntry[]> {
  return (await raw(emu, 'GET', `${emu.ready.adminUrl}requests`)).body.log as LogEntry[];
}

/** A policy with an expression holding `"` and `=>`, which `xml` escapes and `rawxml` does not. */
const EXPR_POLICY = [
  '<policies>',
  '  <inbound>',
  '    <base />',
  '    <set-header name="X-Caller" exists-action="override">',
  '      <value>@(context.Request.Headers.GetValueOrDefault("X-Id", "anon"))</value>',
  '    </set-header>',
  '  </inbound>',
  '  <backend><base /></backend>',
  '  <outbound><base /></outbound>',
  '  <on-error><base /></on-error>',
  '</policies>',
].join('\n');

const simplePolicy = (header: string) =>
  `<policies><inbound><base /><set-header name="${header}" exists-action="override"><value>1</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;

let emu: RunningEmulator;
let client: ApiManagementClient;
let rg: string;
let svc: string;

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  // The APIs, operations and products the policies below go under (ARM refuses a policy under one it lacks).
  for (const parent of ['apis/echo', 'apis/echo/operations/get-item', 'apis/broken-api', 'products/starter', 'products/etag-prod']) storeEntity(emu.state, parent);
  client = clientFor(emu);
  rg = emu.ready.resourceGroup;
  svc = emu.ready.serviceName;
});
afterAll(async () => {
  await emu?.close();
});

test('policy.createOrUpdate (global): 201 then 200 with a new eTag; get rawxml unescaped, default xml escaped', async () => {
  const statuses: number[] = [];
  const onResponse = (r: { status: number }) => statuses.push(r.status);
  const created = await client.policy.createOrUpdate(rg, svc, 'policy', { format: 'rawxml', value: EXPR_POLICY }, { onResponse });
  const updated = await client.policy.createOrUpdate(rg, svc, 'policy', { format: 'rawxml', value: EXPR_POLICY.replace('anon', 'nobody') }, { onResponse });
  expect(statuses).toEqual([201, 200]);
  expect(created.eTag).toMatch(/^".+"$/);
  expect(updated.eTag).toMatch(/^".+"$/);
  expect(updated.eTag).not.toBe(created.eTag);
  expect(updated.name).toBe('policy');

  const rawxml = await client.policy.get(rg, svc, 'policy', { format: 'rawxml' });
  expect(rawxml.format).toBe('rawxml');
  expect(rawxml.value).toContain('@(context.Request.Headers.GetValueOrDefault("X-Id", "nobody"))');
  expect(rawxml.eTag).toBe(updated.eTag);

  const xml = await client.policy.get(rg, svc, 'policy');
  expect(xml.format).toBe('xml');
  expect(xml.value).toContain('&quot;X-Id&quot;');
  expect(xml.value).not.toContain('"X-Id"');
  const log = await requestLog(emu);
  expect(log.filter((e) => e.method === 'PUT' && /\/policies\/policy$/.test(e.path)).map((e) => e.status)).toEqual([201, 200]);
});

test('apiPolicy.get drops `value` (SDK bug azure-sdk-for-js#31566); onResponse body parse and listByApi get it', async () => {
  await client.apiPolicy.createOrUpdate(rg, svc, 'echo', 'policy', { format: 'xml', value: simplePolicy('X-Api') });

  let rawBody: any;
  const got = await client.apiPolicy.get(rg, svc, 'echo', 'policy', {
    onResponse: (r) => {
      rawBody = JSON.parse(r.bodyAsText ?? 'null');
    },
  });
  // The emulator's JSON body carries the value; the SDK's deserialised object does not.
  expect(got.value).toBeUndefined();
  expect(got.eTag).toMatch(/^".+"$/);
  expect(rawBody.properties.value).toContain('X-Api');
  expect(rawBody.name).toBe('policy');

  const listed = await client.apiPolicy.listByApi(rg, svc, 'echo');
  expect(listed.value).toHaveLength(1);
  expect(listed.value![0]!.value).toContain('X-Api');
  expect(listed.value![0]!.id).toMatch(/\/apis\/echo\/policies\/policy$/);
});

test('apiOperationPolicy and productPolicy: createOrUpdate + get', async () => {
  const op = await client.apiOperationPolicy.createOrUpdate(rg, svc, 'echo', 'get-item', 'policy', { value: simplePolicy('X-Op') });
  expect(op.eTag).toMatch(/^".+"$/);
  const opGot = await client.apiOperationPolicy.get(rg, svc, 'echo', 'get-item', 'policy');
  expect(opGot.value).toContain('X-Op');
  expect(opGot.id).toMatch(/\/apis\/echo\/operations\/get-item\/policies\/policy$/);
  expect(opGot.type).toBe('Microsoft.ApiManagement/service/apis/operations/policies');

  const prod = await client.productPolicy.createOrUpdate(rg, svc, 'starter', 'policy', { value: simplePolicy('X-Prod') });
  expect(prod.eTag).toMatch(/^".+"$/);
  const prodGot = await client.productPolicy.get(rg, svc, 'starter', 'policy');
  expect(prodGot.value).toContain('X-Prod');
  expect(prodGot.eTag).toBe(prod.eTag);
  expect(prodGot.type).toBe('Microsoft.ApiManagement/service/products/policies');

  await expect(client.productPolicy.get(rg, svc, 'unknown-product', 'policy')).rejects.toMatchObject({ statusCode: 404, code: 'NotFound', message: 'Entity with specified identifier not found' });
  await expect(client.productPolicy.createOrUpdate(rg, svc, 'unknown-product', 'policy', { value: simplePolicy('X-Prod') })).rejects.toMatchObject({ statusCode: 404, code: 'NotFound' });
  expect(emu.state.resources.has('products/unknown-product/policies/policy')).toBe(false);
});

test('policyFragment.beginCreateOrUpdateAndWait completes; get returns the fragment', async () => {
  const fragment = '<fragment><set-header name="X-Frag" exists-action="override"><value>f</value></set-header></fragment>';
  const done = await client.policyFragment.beginCreateOrUpdateAndWait(rg, svc, 'frag-1', { value: fragment, format: 'xml', description: 'shared header' }, { updateIntervalInMs: 10 });
  expect(done.provisioningState).toBe('Succeeded');
  const got = await client.policyFragment.get(rg, svc, 'frag-1');
  expect(got.name).toBe('frag-1');
  expect(got.description).toBe('shared header');
  expect(got.value).toContain('X-Frag');
  expect(got.type).toBe('Microsoft.ApiManagement/service/policyFragments');
  const all = [];
  for await (const f of client.policyFragment.listByService(rg, svc)) all.push(f.name);
  expect(all).toEqual(['frag-1']);
});

test('ETags: stale If-Match → 412 PreconditionFailed and nothing changes; delete with current ETag, delete again → 204', async () => {
  const first = await client.productPolicy.createOrUpdate(rg, svc, 'etag-prod', 'policy', { value: simplePolicy('X-V1') });
  const second = await client.productPolicy.createOrUpdate(rg, svc, 'etag-prod', 'policy', { value: simplePolicy('X-V2') }, { ifMatch: first.eTag });
  expect(second.eTag).not.toBe(first.eTag);

  await expect(client.productPolicy.createOrUpdate(rg, svc, 'etag-prod', 'policy', { value: simplePolicy('X-V3') }, { ifMatch: first.eTag })).rejects.toMatchObject({
    name: 'RestError',
    statusCode: 412,
    code: 'PreconditionFailed',
  });
  const after = await client.productPolicy.get(rg, svc, 'etag-prod', 'policy');
  expect(after.value).toContain('X-V2');
  expect(after.value).not.toContain('X-V3');
  expect(after.eTag).toBe(second.eTag);

  await expect(client.productPolicy.delete(rg, svc, 'etag-prod', 'policy', first.eTag!)).rejects.toMatchObject({ statusCode: 412, code: 'PreconditionFailed' });
  const beforeDelete = (await requestLog(emu)).length;
  await client.productPolicy.delete(rg, svc, 'etag-prod', 'policy', after.eTag!);
  await expect(client.productPolicy.get(rg, svc, 'etag-prod', 'policy')).rejects.toMatchObject({ statusCode: 404 });
  // Deleting again (already gone) is not an error for the SDK: the service answers 204.
  await client.productPolicy.delete(rg, svc, 'etag-prod', 'policy', after.eTag!);
  const log = (await requestLog(emu)).slice(beforeDelete);
  expect(log.map((e) => `${e.method} ${e.status}`)).toEqual(['DELETE 200', 'GET 404', 'DELETE 204']);
  const st = (await raw(emu, 'GET', `${emu.ready.adminUrl}state`)).body;
  expect(Object.keys(st.resources).filter((k) => k.includes('etag-prod'))).toEqual(['products/etag-prod']);
});

test('invalid policy XML → RestError 400 ValidationError whose details name the line', async () => {
  const broken = '<policies>\n  <inbound>\n    <set-header name="x">\n  </inbound>\n</policies>';
  let err: any;
  try {
    await client.apiPolicy.createOrUpdate(rg, svc, 'broken-api', 'policy', { value: broken });
  } catch (e) {
    err = e;
  }
  expect(err).toBeDefined();
  expect(err.name).toBe('RestError');
  expect(err.statusCode).toBe(400);
  expect(err.code).toBe('ValidationError');
  const details = err.details?.error?.details as Array<{ code: string; target: string; message: string }>;
  expect(details).toHaveLength(1);
  expect(details[0]).toMatchObject({ code: 'ValidationError', target: 'representation' });
  expect(details[0]!.message).toMatch(/Line \d+, position \d+\./);
  const st = (await raw(emu, 'GET', `${emu.ready.adminUrl}state`)).body;
  expect(Object.keys(st.resources).some((k) => k.includes('broken-api/'))).toBe(false);
});

test('429 + Retry-After: the SDK retry policy waits and succeeds; the log shows 429 then 200', async () => {
  const retrying = clientFor(emu, emulatorCredential(emu), 2);
  await retrying.policy.get(rg, svc, 'policy'); // token acquired before throttling
  const set = await raw(emu, 'POST', `${emu.ready.adminUrl}faults`, {
    body: JSON.stringify({ throttle: { readBurst: 2, readRate: 1, writeBurst: 2, writeRate: 1 } }),
  });
  expect(set.status).toBe(200);
  try {
    const before = (await requestLog(emu)).length;
    const started = Date.now();
    for (let i = 0; i < 4; i++) {
      const p = await retrying.policy.get(rg, svc, 'policy');
      expect(p.value).toContain('X-Id');
    }
    const log = (await requestLog(emu)).slice(before).filter((e) => /\/policies\/policy$/.test(e.path));
    const statuses = log.map((e) => e.status);
    expect(statuses).toContain(429);
    const i429 = statuses.indexOf(429);
    expect(statuses.slice(i429 + 1)).toContain(200);
    expect(statuses[statuses.length - 1]).toBe(200);
    // Retry-After is at least 1 s and the throttling strategy honours it.
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  } finally {
    await raw(emu, 'POST', `${emu.ready.adminUrl}faults`, { body: '{}' });
  }
});

test('a token the emulator did not issue → 401', async () => {
  const forged = clientFor(emu, { getToken: async () => ({ token: 'forged', expiresOnTimestamp: Date.now() + 3600_000 }) });
  await expect(forged.policy.get(rg, svc, 'policy')).rejects.toMatchObject({ statusCode: 401, code: 'AuthenticationFailed' });

  // A well-formed token issued by a different emulator instance is not accepted either.
  const other = await startEmulator({ port: 0 });
  try {
    const otherToken = (await emulatorCredential(other).getToken(ARM_SCOPE))!.token;
    const foreign = clientFor(emu, { getToken: async () => ({ token: otherToken, expiresOnTimestamp: Date.now() + 3600_000 }) });
    await expect(foreign.policy.get(rg, svc, 'policy')).rejects.toMatchObject({ statusCode: 401 });
  } finally {
    await other.close();
  }
  const last = (await requestLog(emu)).slice(-1)[0]!;
  expect(last).toMatchObject({ method: 'GET', status: 401, auth: 'bearer' });
});

describe('paging with a page size of 5', () => {
  let paged: RunningEmulator;
  let pclient: ApiManagementClient;
  const N = 12;
  const apiIds = Array.from({ length: N }, (_, i) => `api-${String(i).padStart(2, '0')}`);

  beforeAll(async () => {
    paged = await startEmulator({ port: 0, routes: [identityRoutes, createPolicyRoutes({ pageSize: 5 })] });
    for (const id of apiIds) {
      storeEntity(paged.state, `apis/${id}`);
      storePolicy(paged.state, `apis/${id}/policies/policy`, simplePolicy(`X-${id}`));
    }
    pclient = clientFor(paged);
  });
  afterAll(async () => {
    await paged?.close();
  });

  test('api.listByService follows absolute nextLinks through every page', async () => {
    const names: string[] = [];
    const tokens: Array<string | undefined> = [];
    const sizes: number[] = [];
    for await (const page of pclient.api.listByService(paged.ready.resourceGroup, paged.ready.serviceName).byPage()) {
      sizes.push(page.length);
      names.push(...page.map((a) => a.name!));
      tokens.push(getContinuationToken(page));
    }
    expect(sizes).toEqual([5, 5, 2]);
    expect(names).toEqual(apiIds);
    expect(tokens[0]).toMatch(new RegExp(`^${paged.ready.armEndpoint.replace(/\./g, '\\.')}/subscriptions/.+/apis\\?.*api-version=2024-05-01`));
    expect(tokens[0]).toContain('$skip=5');
    expect(tokens[1]).toContain('$skip=10');
    expect(tokens[2]).toBeUndefined();

    const all: string[] = [];
    for await (const a of pclient.api.listByService(paged.ready.resourceGroup, paged.ready.serviceName)) all.push(a.name!);
    expect(all).toEqual(apiIds);
  });

  test('allPolicies.listByService iterates every policy across pages', async () => {
    const refs: string[] = [];
    let pages = 0;
    for await (const page of pclient.allPolicies.listByService(paged.ready.resourceGroup, paged.ready.serviceName).byPage()) {
      pages += 1;
      refs.push(...page.map((p) => p.referencePolicyId!));
    }
    expect(pages).toBe(3);
    expect(refs).toHaveLength(N);
    expect(refs.map((r) => r.replace(/^.*\/apis\/([^/]+)\/policies\/policy$/, '$1'))).toEqual(apiIds);
    const log = (await requestLog(paged)).filter((e) => /\/allPolicies$/.test(e.path));
    expect(log.map((e) => e.status)).toEqual([200, 200, 200]);
  });
});
