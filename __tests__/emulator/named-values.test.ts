/**
 * Named values in the emulator, as `apimnamedvalues.json` (2024-05-01) and AZURE-CONTRACT.md's
 * addendum describe them: driven through the `RouteHandler` seam (the policy routes, which ask the
 * named-value routes first), and once over HTTPS with the real `@azure/arm-apimanagement` client.
 */
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { createPolicyRoutes } from '../../src/emulator/arm-policies.js';
import { seedIdentity } from '../../src/emulator/arm-rbac.js';
import { userAssignedIdentityIds } from '../../src/emulator/arm-principals.js';
import { authorize, requestActions, setDeployerAssignments } from '../../src/emulator/rbac-enforce.js';
import { seedState } from '../../src/emulator/seed.js';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { createEmulatorState } from '../../src/emulator/state.js';
import type { EmulatorResponse, EmulatorState } from '../../src/emulator/types.js';
import type { LiveSeed } from '../../src/model/seed.js';
import { emulatorClient } from '../helpers/emulator.js';
import { routeCall as call, routeRequest as request } from '../helpers/routes.js';

const SUB = 'sub-1';
const S = `/subscriptions/${SUB}/resourceGroups/rg-1/providers/Microsoft.ApiManagement/service/apim-1`;
const V = '2024-05-01';
const VAULT = `/subscriptions/${SUB}/resourceGroups/rg-secrets/providers/Microsoft.KeyVault/vaults/kv-orders`;
const SECRET_URL = 'https://kv-orders.vault.azure.net/secrets/orders-key';
const UAI = `/subscriptions/${SUB}/resourceGroups/rg-1/providers/Microsoft.ManagedIdentity/userAssignedIdentities/apim-reader`;
const SECRETS_USER = '4633458b-17de-408a-b874-0445c86b69e6';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

type Body = Record<string, any>;

function freshState(): EmulatorState {
  return createEmulatorState({ subscriptionId: SUB, resourceGroup: 'rg-1', serviceName: 'apim-1', tenantId: 'tenant-1', clientId: 'client-1' });
}

const nv = (id: string, query = '') => `${S}/namedValues/${id}?api-version=${V}${query}`;

/** Polls the operation a long-running answer names until it is no longer InProgress; returns its final status. */
function complete(state: EmulatorState, res: EmulatorResponse): string {
  const url = res.headers?.['Azure-AsyncOperation'];
  if (!url) throw new Error(`no Azure-AsyncOperation in ${JSON.stringify(res)}`);
  for (let i = 0; i < 5; i++) {
    const status = (call(state, 'GET', url).body as Body).status as string;
    if (status !== 'InProgress') return status;
  }
  throw new Error('operation never completed');
}

/** PUT then complete the operation; returns the PUT's answer. */
function put(state: EmulatorState, id: string, properties: Body, headers: Record<string, string> = {}): EmulatorResponse {
  const res = call(state, 'PUT', nv(id), { body: { properties }, headers });
  if (res.status === 200 || res.status === 201) expect(complete(state, res)).toBe('Succeeded');
  return res;
}

const get = (state: EmulatorState, id: string) => call(state, 'GET', nv(id));

describe('named value CRUD through the route seam', () => {
  test('PUT is long-running: 201 InProgress with Location and Azure-AsyncOperation, visible only once a poll completes it; then 200 on update', () => {
    const state = freshState();
    const res = call(state, 'PUT', nv('tenant-id'), { body: { properties: { displayName: 'tenant-id', value: 'abc', tags: ['env'] } } });
    expect(res.status).toBe(201);
    expect((res.body as Body).properties.provisioningState).toBe('InProgress');
    expect(res.headers!.Location).toContain(`${S}/namedValues/tenant-id?api-version=${V}&asyncId=`);
    expect(res.headers!['Azure-AsyncOperation']).toContain(`${S}/tenant/operationResults/`);
    expect(get(state, 'tenant-id').status).toBe(404);
    expect(complete(state, res)).toBe('Succeeded');
    const got = get(state, 'tenant-id');
    expect(got.status).toBe(200);
    expect((got.body as Body).properties).toEqual({ displayName: 'tenant-id', value: 'abc', tags: ['env'], secret: false, provisioningState: 'Succeeded' });
    expect(got.headers!.ETag).toBe(res.headers!.ETag);
    // The final GET the SDK makes on Location (with asyncId/asyncCode) answers the entity.
    expect(call(state, 'GET', res.headers!.Location!).status).toBe(200);

    const updated = put(state, 'tenant-id', { displayName: 'tenant-id', value: 'def' });
    expect(updated.status).toBe(200);
    expect((get(state, 'tenant-id').body as Body).properties.value).toBe('def');
    expect(get(state, 'tenant-id').headers!.ETag).not.toBe(got.headers!.ETag);
  });

  test("a secret's value is in neither GET nor the list, only in POST listValue", () => {
    const state = freshState();
    put(state, 'api-key', { displayName: 'api-key', value: 's3cr3t', secret: true });
    const item = get(state, 'api-key').body as Body;
    expect(item.properties.secret).toBe(true);
    expect(item.properties).not.toHaveProperty('value');
    expect(JSON.stringify(call(state, 'GET', `${S}/namedValues?api-version=${V}`).body)).not.toContain('s3cr3t');
    const listed = call(state, 'POST', `${S}/namedValues/api-key/listValue?api-version=${V}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ value: 's3cr3t' });
    expect(listed.headers!.ETag).toBe(get(state, 'api-key').headers!.ETag);
    expect(call(state, 'POST', `${S}/namedValues/absent/listValue?api-version=${V}`).status).toBe(404);
  });

  test.each([
    ['displayName with a space', { displayName: 'bad name', value: 'x' }, 'displayName'],
    ['displayName missing', { value: 'x' }, 'displayName'],
    ['displayName of 257 characters', { displayName: 'a'.repeat(257), value: 'x' }, 'displayName'],
    ['value of 4097 characters', { displayName: 'ok', value: 'v'.repeat(4097) }, 'value'],
    ['neither value nor keyVault', { displayName: 'ok' }, 'value'],
    ['both value and keyVault', { displayName: 'ok', value: 'x', keyVault: { secretIdentifier: SECRET_URL } }, 'value'],
    ['a keyVault reference that is not secret', { displayName: 'ok', secret: false, keyVault: { secretIdentifier: SECRET_URL } }, 'secret'],
    ['a secretIdentifier that is not a vault secret URL', { displayName: 'ok', keyVault: { secretIdentifier: 'https://example.com/secrets/x' } }, 'keyVault.secretIdentifier'],
    ['an identityClientId that is not a GUID', { displayName: 'ok', keyVault: { secretIdentifier: SECRET_URL, identityClientId: 'apim-reader' } }, 'keyVault.identityClientId'],
    ['33 tags', { displayName: 'ok', value: 'x', tags: Array.from({ length: 33 }, (_, i) => `t${i}`) }, 'tags'],
  ])('PUT with %s is a 400 ValidationError naming the field, and nothing is stored or started', (_what, properties, target) => {
    const state = freshState();
    const res = call(state, 'PUT', nv('nv-1'), { body: { properties } });
    expect(res.status).toBe(400);
    expect((res.body as Body).error.code).toBe('ValidationError');
    expect((res.body as Body).error.details[0].target).toBe(target);
    expect(state.operations.size).toBe(0);
    expect(get(state, 'nv-1').status).toBe(404);
  });

  test('an id with a character ARM forbids is refused', () => {
    const res = call(freshState(), 'PUT', `${S}/namedValues/a%3Ab?api-version=${V}`, { body: { properties: { displayName: 'ab', value: 'x' } } });
    expect(res.status).toBe(400);
  });

  test('ETags: a stale If-Match is 412 on PUT, PATCH and DELETE; DELETE and PATCH require If-Match; * matches', () => {
    const state = freshState();
    put(state, 'nv-1', { displayName: 'nv-1', value: 'a' });
    const etag = get(state, 'nv-1').headers!.ETag!;
    const stale = { 'If-Match': '"stale"' };
    expect(call(state, 'PUT', nv('nv-1'), { body: { properties: { displayName: 'nv-1', value: 'b' } }, headers: stale }).status).toBe(412);
    expect(call(state, 'PATCH', nv('nv-1'), { body: { properties: { value: 'b' } }, headers: stale }).status).toBe(412);
    expect(call(state, 'PATCH', nv('nv-1'), { body: { properties: { value: 'b' } } }).status).toBe(400);
    expect(call(state, 'DELETE', nv('nv-1')).status).toBe(400);
    expect(call(state, 'DELETE', nv('nv-1'), { headers: stale }).status).toBe(412);
    expect((get(state, 'nv-1').body as Body).properties.value).toBe('a');
    expect(put(state, 'nv-1', { displayName: 'nv-1', value: 'c' }, { 'If-Match': etag }).status).toBe(200);
    expect(call(state, 'HEAD', nv('nv-1')).headers!.ETag).toBe(get(state, 'nv-1').headers!.ETag);
    expect(call(state, 'DELETE', nv('nv-1'), { headers: { 'If-Match': '*' } }).status).toBe(200);
    expect(call(state, 'HEAD', nv('nv-1')).status).toBe(404);
    expect(call(state, 'DELETE', nv('nv-1'), { headers: { 'If-Match': '*' } }).status).toBe(204);
  });

  test('PATCH is long-running (202) and changes only what it sends; a secret stays secret', () => {
    const state = freshState();
    put(state, 'nv-1', { displayName: 'nv-1', value: 'a', secret: true, tags: ['x'] });
    const res = call(state, 'PATCH', nv('nv-1'), { body: { properties: { value: 'b' } }, headers: { 'If-Match': '*' } });
    expect(res.status).toBe(202);
    expect(call(state, 'POST', `${S}/namedValues/nv-1/listValue?api-version=${V}`).body).toEqual({ value: 'a' });
    expect(complete(state, res)).toBe('Succeeded');
    expect(call(state, 'POST', `${S}/namedValues/nv-1/listValue?api-version=${V}`).body).toEqual({ value: 'b' });
    expect((get(state, 'nv-1').body as Body).properties).toMatchObject({ displayName: 'nv-1', secret: true, tags: ['x'] });
    expect(call(state, 'PATCH', nv('absent'), { body: { properties: { value: 'b' } }, headers: { 'If-Match': '*' } }).status).toBe(404);
    expect(call(state, 'PATCH', nv('nv-1'), { body: { properties: { displayName: 'no spaces please' } }, headers: { 'If-Match': '*' } }).status).toBe(400);
  });

  test('list: paged, $filter on displayName and tags; an unsupported filter is a 400', () => {
    const state = freshState();
    const handler = createPolicyRoutes({ pageSize: 2 });
    for (const [id, tags] of [
      ['alpha', ['a']],
      ['beta', ['b']],
      ['gamma', ['a', 'b']],
    ] as const) {
      const res = call(state, 'PUT', nv(id), { body: { properties: { displayName: id, value: id, tags } } }, handler);
      complete(state, res);
    }
    const first = call(state, 'GET', `${S}/namedValues?api-version=${V}`, {}, handler).body as Body;
    expect(first.value.map((v: Body) => v.name)).toEqual(['alpha', 'beta']);
    const second = call(state, 'GET', first.nextLink, {}, handler).body as Body;
    expect(second.value.map((v: Body) => v.name)).toEqual(['gamma']);
    const names = (filter: string) => (call(state, 'GET', `${S}/namedValues?api-version=${V}&$filter=${encodeURIComponent(filter)}`).body as Body).value.map((v: Body) => v.name);
    expect(names("displayName eq 'beta'")).toEqual(['beta']);
    expect(names("contains(displayName, 'mm')")).toEqual(['gamma']);
    expect(names("tags/any(t: t eq 'b')")).toEqual(['beta', 'gamma']);
    expect(names("tags/any(t: t eq 'a') and endswith(displayName,'a')")).toEqual(['alpha', 'gamma']);
    for (const filter of ["displayName eq 'a' or displayName eq 'b'", "value eq 'alpha'", 'displayName eq alpha']) {
      const res = call(state, 'GET', `${S}/namedValues?api-version=${V}&$filter=${encodeURIComponent(filter)}`);
      expect(res.status).toBe(400);
      expect((res.body as Body).error.message).toContain(filter);
    }
  });
});

/** The service's identity and role assignments, as a seed would give them. */
function withIdentity(state: EmulatorState, identity: { system?: boolean; userAssigned?: string[] }, roles: Array<{ identity: string; scope: string; role: string }>): void {
  seedIdentity(state, {
    systemAssigned: identity.system ?? false,
    userAssigned: identity.userAssigned ?? [],
    roleAssignments: roles.map((r) => ({ identity: r.identity, scope: r.scope, roleDefinitionGuid: r.role })),
    assignmentName: (scope, principal, role) => `${scope}|${principal}|${role}`.replace(/[^A-Za-z0-9]/g, '').slice(-36),
  } as Parameters<typeof seedIdentity>[1]);
}

const lastStatus = (state: EmulatorState, id: string) => (get(state, id).body as Body).properties.keyVault.lastStatus as Body;

describe('Key Vault named values', () => {
  const kvProps = (identityClientId?: string) => ({ displayName: 'orders-key', secret: true, keyVault: { secretIdentifier: SECRET_URL, ...(identityClientId ? { identityClientId } : {}) } });

  /** Sends a PUT and polls its operation to the end: the PUT's answer and the operation's final body. */
  const putKv = (state: EmulatorState, id: string, properties: Body) => {
    const res = call(state, 'PUT', nv(id), { body: { properties } });
    if (res.status !== 200 && res.status !== 201) return { res, op: undefined };
    complete(state, res);
    return { res, op: call(state, 'GET', res.headers!['Azure-AsyncOperation']!).body as Body };
  };
  const withoutRoles = (state: EmulatorState) => {
    for (const key of [...state.resources.keys()]) if (key.startsWith('roleassignments/')) state.resources.delete(key);
  };

  test("a create the system identity cannot read (no Key Vault data role) fails: the operation ends Failed with Key Vault's refusal, nothing is stored", () => {
    const state = freshState();
    withIdentity(state, { system: true }, [{ identity: 'system', scope: VAULT, role: READER }]);
    const { res, op } = putKv(state, 'orders-key', kvProps());
    expect(res.status).toBe(201);
    expect(op!.status).toBe('Failed');
    expect(op!.error.code).toBe('Forbidden');
    expect(op!.error.message).toContain("'Microsoft.KeyVault/vaults/secrets/getSecret/action'");
    expect(op!.error.message).toContain(SECRET_URL);
    expect(get(state, 'orders-key').status).toBe(404);
  });

  test('with Key Vault Secrets User on the vault the create succeeds; a role taken away later: a refresh records the refusal, listValue is refused, the failed-refresh list names it; granted again and refreshed: Success', () => {
    const state = freshState();
    withIdentity(state, { system: true }, [{ identity: 'system', scope: VAULT, role: SECRETS_USER }]);
    expect(putKv(state, 'orders-key', kvProps()).op!.status).toBe('Succeeded');
    const body = get(state, 'orders-key').body as Body;
    expect(body.properties.keyVault.secretIdentifier).toBe(SECRET_URL);
    expect(body.properties).not.toHaveProperty('value');
    expect(lastStatus(state, 'orders-key').code).toBe('Success');

    withoutRoles(state);
    const refresh = call(state, 'POST', `${S}/namedValues/orders-key/refreshSecret?api-version=${V}`);
    expect(refresh.status).toBe(202);
    expect(lastStatus(state, 'orders-key').code).toBe('Success');
    expect(complete(state, refresh)).toBe('Succeeded');
    expect(lastStatus(state, 'orders-key').code).toBe('Forbidden');
    expect(lastStatus(state, 'orders-key').timeStampUtc).toEqual(expect.any(String));
    expect(call(state, 'POST', `${S}/namedValues/orders-key/listValue?api-version=${V}`).status).toBe(400);
    const failed = call(state, 'GET', `${S}/namedValues?api-version=${V}&isKeyVaultRefreshFailed=true`).body as Body;
    expect(failed.value.map((v: Body) => v.name)).toEqual(['orders-key']);

    withIdentity(state, { system: true }, [{ identity: 'system', scope: VAULT, role: SECRETS_USER }]);
    expect(complete(state, call(state, 'POST', `${S}/namedValues/orders-key/refreshSecret?api-version=${V}`))).toBe('Succeeded');
    expect(lastStatus(state, 'orders-key').code).toBe('Success');
    expect(call(state, 'POST', `${S}/namedValues/orders-key/listValue?api-version=${V}`).status).toBe(200);
    expect((call(state, 'GET', `${S}/namedValues?api-version=${V}&isKeyVaultRefreshFailed=true`).body as Body).value).toEqual([]);
  });

  test('a user-assigned identity is found by its client id; a role at an enclosing scope counts, one on another vault does not', () => {
    const state = freshState();
    const { clientId } = userAssignedIdentityIds(UAI);
    withIdentity(state, { userAssigned: [UAI] }, [{ identity: UAI, scope: VAULT.replace('kv-orders', 'kv-other'), role: SECRETS_USER }]);
    expect(putKv(state, 'orders-key', kvProps(clientId)).op!.status).toBe('Failed');
    expect(get(state, 'orders-key').status).toBe(404);
    withIdentity(state, { userAssigned: [UAI] }, [{ identity: UAI, scope: `/subscriptions/${SUB}`, role: SECRETS_USER }]);
    expect(putKv(state, 'orders-key', kvProps(clientId)).op!.status).toBe('Succeeded');
    expect(lastStatus(state, 'orders-key').code).toBe('Success');
  });

  test('an identity the service does not have: no system identity fails the write (IdentityNotFound); an unknown identityClientId is a 400 at once, nothing started', () => {
    const state = freshState();
    withIdentity(state, {}, []);
    const { op } = putKv(state, 'no-system', kvProps());
    expect([op!.status, op!.error.code]).toEqual(['Failed', 'IdentityNotFound']);
    const before = state.operations.size;
    const { res } = putKv(state, 'no-uai', kvProps('00000000-0000-4000-8000-000000000001'));
    expect(res.status).toBe(400);
    expect((res.body as Body).error.details[0]).toMatchObject({ code: 'ValidationError', target: 'identityClientId' });
    expect((res.body as Body).error.details[0].message).toContain('Can not find Managed Identity with provided IdentityClientId : 00000000-0000-4000-8000-000000000001');
    expect(state.operations.size).toBe(before);
    expect(get(state, 'no-uai').status).toBe(404);
  });

  test('keyVaultDenials: a role that has not reached Key Vault yet fails that many reads (writes or refreshes), then they succeed', () => {
    const state = freshState();
    withIdentity(state, { system: true }, [{ identity: 'system', scope: VAULT, role: SECRETS_USER }]);
    state.faults.keyVaultDenials = 2;
    const first = putKv(state, 'orders-key', kvProps()).op!;
    expect([first.status, first.error.code]).toEqual(['Failed', 'Forbidden']);
    expect(first.error.message).toContain('observe propagation time');
    expect(putKv(state, 'orders-key', kvProps()).op!.status).toBe('Failed');
    expect(putKv(state, 'orders-key', kvProps()).op!.status).toBe('Succeeded');
    expect(lastStatus(state, 'orders-key').code).toBe('Success');
    expect(state.faults.keyVaultDenials).toBe(0);
  });

  test('refreshSecret on a plain value is a 400', () => {
    const state = freshState();
    put(state, 'plain', { displayName: 'plain', value: 'x' });
    expect(call(state, 'POST', `${S}/namedValues/plain/refreshSecret?api-version=${V}`).status).toBe(400);
  });
});

describe('authorisation of the named value routes', () => {
  test.each([
    ['PUT', `${S}/namedValues/nv`, 'Microsoft.ApiManagement/service/namedValues/write'],
    ['PATCH', `${S}/namedValues/nv`, 'Microsoft.ApiManagement/service/namedValues/write'],
    ['DELETE', `${S}/namedValues/nv`, 'Microsoft.ApiManagement/service/namedValues/delete'],
    ['HEAD', `${S}/namedValues/nv`, 'Microsoft.ApiManagement/service/namedValues/read'],
    ['POST', `${S}/namedValues/nv/refreshSecret`, 'Microsoft.ApiManagement/service/namedValues/refreshSecret/action'],
    ['POST', `${S}/namedValues/nv/listValue`, 'Microsoft.ApiManagement/service/namedValues/listValue/action'],
  ])('%s %s needs %s', (method, path, action) => {
    expect(requestActions(method, path)?.action).toBe(action);
  });

  test('the default deployer may listValue; an API Management Service Reader may read but not listValue', () => {
    const state = freshState();
    expect(authorize(request('POST', `${S}/namedValues/nv/listValue?api-version=${V}`), state)).toBeUndefined();
    expect(authorize(request('PUT', `${S}/namedValues/nv?api-version=${V}`), state)).toBeUndefined();
    expect(setDeployerAssignments(state, [{ role: 'API Management Service Reader Role', scope: S }])).toBeUndefined();
    expect(authorize(request('GET', `${S}/namedValues/nv?api-version=${V}`), state)).toBeUndefined();
    const refused = authorize(request('POST', `${S}/namedValues/nv/listValue?api-version=${V}`), state);
    expect(refused?.status).toBe(403);
    expect((refused?.body as Body).error.message).toContain("'Microsoft.ApiManagement/service/namedValues/listValue/action'");
  });
});

describe('seeding named values', () => {
  const seed = (namedValues: LiveSeed['namedValues']): LiveSeed => ({ policies: [], apis: [], operations: [], products: [], workspaces: [], namedValues, backends: [] });

  test('a secret seeded with its value keeps it for listValue; one extracted without a value is stored without one', () => {
    const state = freshState();
    seedState(
      state,
      seed([
        { name: 'with-value', properties: { displayName: 'with-value', secret: true, value: 'seeded' } },
        { name: 'extracted', properties: { displayName: 'extracted', secret: true } },
        { name: 'plain', properties: { value: 'p' } },
      ]),
    );
    expect((get(state, 'with-value').body as Body).properties).not.toHaveProperty('value');
    expect(call(state, 'POST', `${S}/namedValues/with-value/listValue?api-version=${V}`).body).toEqual({ value: 'seeded' });
    expect(call(state, 'POST', `${S}/namedValues/extracted/listValue?api-version=${V}`).body).toEqual({});
    expect((get(state, 'plain').body as Body).properties).toMatchObject({ displayName: 'plain', value: 'p', secret: false });
  });

  test('a seed ARM would refuse names the file and the problem', () => {
    expect(() => seedState(freshState(), seed([{ name: 'bad', properties: { displayName: 'has space', value: 'x' } }]))).toThrow(
      /named value 'bad' \(named values\/bad\/namedValueInformation\.json\): displayName 'has space' may contain only/,
    );
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

  test('namedValue.beginCreateOrUpdateAndWait / get / listValue / beginUpdateAndWait / delete', async () => {
    const rg = emu.ready.resourceGroup;
    const svc = emu.ready.serviceName;
    const created = await client.namedValue.beginCreateOrUpdateAndWait(
      rg,
      svc,
      'sdk-secret',
      { displayName: 'sdk-secret', value: 'from-sdk', secret: true, tags: ['sdk'] },
      { updateIntervalInMs: 10 },
    );
    expect(created.provisioningState).toBe('Succeeded');
    expect(created.value).toBeUndefined();
    const got = await client.namedValue.get(rg, svc, 'sdk-secret');
    expect(got.secret).toBe(true);
    expect(got.value).toBeUndefined();
    expect(got.tags).toEqual(['sdk']);
    expect(got.eTag).toMatch(/^".+"$/);
    const secret = await client.namedValue.listValue(rg, svc, 'sdk-secret');
    expect(secret.value).toBe('from-sdk');
    // PATCH answers 202; the SDK polls the operation and then reads the entity.
    const patched = await client.namedValue.beginUpdateAndWait(rg, svc, 'sdk-secret', got.eTag!, { value: 'patched' }, { updateIntervalInMs: 10 });
    expect(patched.secret).toBe(true);
    expect((await client.namedValue.listValue(rg, svc, 'sdk-secret')).value).toBe('patched');
    const current = await client.namedValue.get(rg, svc, 'sdk-secret');
    expect(current.eTag).not.toBe(got.eTag);

    await expect(client.namedValue.delete(rg, svc, 'sdk-secret', got.eTag!)).rejects.toMatchObject({ statusCode: 412 });
    await client.namedValue.delete(rg, svc, 'sdk-secret', current.eTag!);
    const gone = await client.namedValue.get(rg, svc, 'sdk-secret').catch((e: { statusCode?: number }) => e);
    expect((gone as { statusCode?: number }).statusCode).toBe(404);
  });
});
