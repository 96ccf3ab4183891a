/**
 * The emulator driven by the real SDKs over HTTPS. The throw-away CA is trusted through the SDK
 * client option `tlsOptions: { ca }` (core-rest-pipeline's tlsPolicy → https.Agent), since
 * NODE_EXTRA_CA_CERTS cannot change after the process starts; raw requests pass `ca` to https.request.
 */
import { ClientAssertionCredential } from '@azure/identity';
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { AuthorizationManagementClient } from '@azure/arm-authorization';
import { startEmulator, type RunningEmulator } from '../../src/emulator/server.js';
import { raw } from '../helpers/emulator.js';

let emu: RunningEmulator;
let credential: ClientAssertionCredential;
const ARM_SCOPE = 'https://management.azure.com/.default';

async function githubIdToken(audience = 'api://AzureADTokenExchange'): Promise<string> {
  const r = await raw(emu, 'GET', `${emu.ready.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent(audience)}`, {
    headers: { Authorization: `Bearer ${emu.ready.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
  });
  if (r.status !== 200) throw new Error(`OIDC fake: ${r.status}`);
  return r.body.value;
}

const clientOptions = () => ({
  endpoint: emu.ready.armEndpoint,
  credentialScopes: [ARM_SCOPE],
  tlsOptions: { ca: emu.caCert },
  retryOptions: { maxRetries: 0 },
});

beforeAll(async () => {
  emu = await startEmulator({ port: 0 });
  credential = new ClientAssertionCredential(emu.ready.tenantId, emu.ready.clientId, () => githubIdToken(), {
    authorityHost: emu.ready.env.AZURE_AUTHORITY_HOST,
    disableInstanceDiscovery: true,
    tlsOptions: { ca: emu.caCert },
  });
});
afterAll(async () => {
  await emu?.close();
});

test('ready line carries every endpoint and variable a client needs', () => {
  const r = emu.ready;
  expect(r.armEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
  expect(r.adminUrl).toBe(`${r.armEndpoint}/admin/`);
  expect(Object.keys(r.env).sort()).toEqual(['ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'AZURE_AUTHORITY_HOST', 'GITHUB_API_URL', 'NODE_EXTRA_CA_CERTS'].sort());
  for (const k of ['subscriptionId', 'resourceGroup', 'serviceName', 'tenantId', 'clientId'] as const) expect(r[k]).toBeTruthy();
});

test('OIDC fake rejects a wrong request token and issues an RS256 JWT with the audience', async () => {
  const bad = await raw(emu, 'GET', `${emu.ready.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=x`, { headers: { Authorization: 'Bearer nope' } });
  expect(bad.status).toBe(401);
  const jwt = await githubIdToken();
  const [h, p] = jwt
    .split('.')
    .slice(0, 2)
    .map((s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8') || '{}'));
  expect(h.alg).toBe('RS256');
  expect(p).toMatchObject({ aud: 'api://AzureADTokenExchange', sub: 'repo:octo-org/octo-repo:pull_request' });
  expect(p.exp).toBeGreaterThan(Date.now() / 1000);
});

test('ClientAssertionCredential gets a token from the Entra fake; bad assertions get Entra errors', async () => {
  const token = await credential.getToken(ARM_SCOPE);
  expect(token.token).toMatch(/^[A-Za-z0-9_-]{20,}$/);
  const reqs = (await raw(emu, 'GET', `${emu.ready.adminUrl}requests`)).body;
  expect(reqs.tokenRequests[0]).toEqual({
    grantType: 'client_credentials',
    clientAssertionType: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    scope: expect.stringContaining(ARM_SCOPE),
  });
  expect(JSON.stringify(reqs.tokenRequests)).not.toContain('eyJ');

  const tokenUrl = `${emu.ready.env.AZURE_AUTHORITY_HOST}/${emu.ready.tenantId}/oauth2/v2.0/token`;
  const form = (assertion: string) =>
    new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: emu.ready.clientId,
      scope: ARM_SCOPE,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }).toString();
  const post = (body: string) => raw(emu, 'POST', tokenUrl, { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body });
  const wrongAud = await post(form(await githubIdToken('https://github.com/octo-org')));
  expect(wrongAud.status).toBe(400);
  expect(wrongAud.body.error).toBe('invalid_client');
  expect(wrongAud.body.error_description).toMatch(/^AADSTS700212/);
  const good = await githubIdToken();
  const tampered = good.slice(0, -4) + (good.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  const badSig = await post(form(tampered));
  expect(badSig.body.error_description).toMatch(/^AADSTS700027/);
  expect(badSig.status).toBe(401);
  expect(badSig.body.error).toBe('invalid_client');
});

test('ARM without a token → 401 AuthenticationFailed', async () => {
  const S = `/subscriptions/${emu.ready.subscriptionId}/resourceGroups/${emu.ready.resourceGroup}/providers/Microsoft.ApiManagement/service/${emu.ready.serviceName}`;
  const r = await raw(emu, 'GET', `${emu.ready.armEndpoint}${S}?api-version=2024-05-01`);
  expect(r.status).toBe(401);
  expect(r.body.error.code).toBe('AuthenticationFailed');
  const client = new ApiManagementClient({ getToken: async () => ({ token: 'forged', expiresOnTimestamp: Date.now() + 3600_000 }) }, emu.ready.subscriptionId, clientOptions());
  await expect(client.apiManagementService.get(emu.ready.resourceGroup, emu.ready.serviceName)).rejects.toMatchObject({ statusCode: 401 });
});

test('APIM service get and identity PATCH as an LRO with the real SDK', async () => {
  const client = new ApiManagementClient(credential, emu.ready.subscriptionId, clientOptions());
  const before = await client.apiManagementService.get(emu.ready.resourceGroup, emu.ready.serviceName);
  expect(before.identity?.type ?? 'None').toBe('None');
  expect(before.etag).toMatch(/^".+"$/);
  const after = await client.apiManagementService.beginUpdateAndWait(emu.ready.resourceGroup, emu.ready.serviceName, { identity: { type: 'SystemAssigned' } }, { updateIntervalInMs: 10 });
  expect(after.identity?.type).toBe('SystemAssigned');
  expect(after.identity?.principalId).toMatch(/^[0-9a-f-]{36}$/);
  expect(after.identity?.tenantId).toBe(emu.ready.tenantId);
  const again = await client.apiManagementService.get(emu.ready.resourceGroup, emu.ready.serviceName);
  expect(again.identity?.principalId).toBe(after.identity?.principalId);
  expect(again.etag).not.toBe(before.etag);
  const log = (await raw(emu, 'GET', `${emu.ready.adminUrl}requests`)).body.log as Array<{ method: string; path: string; status: number; auth: string }>;
  const polls = log.filter((e) => /operationresults/i.test(e.path));
  expect(polls.map((e) => e.status)).toContain(202);
  expect(polls.map((e) => e.status)).toContain(200);
  expect(log.find((e) => e.method === 'PATCH')).toMatchObject({ status: 202, auth: 'bearer' });
  const st = (await raw(emu, 'GET', `${emu.ready.adminUrl}state`)).body;
  expect(st.resources.identity.value).toEqual({ type: 'SystemAssigned' });
  expect(st.resources.identity.etag).toMatch(/^".+"$/);
});

test('role assignments: create 201, idempotent 200, get, 409 under another name, 400 update, PrincipalNotFound, list, delete 200/204', async () => {
  const client = new AuthorizationManagementClient(credential, emu.ready.subscriptionId, clientOptions());
  const scope = `subscriptions/${emu.ready.subscriptionId}/resourceGroups/rg-bus/providers/Microsoft.ServiceBus/namespaces/bus1`;
  const sender = `/subscriptions/${emu.ready.subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/69a216fc-b8fb-44d8-bc22-1f3c2cd27a39`;
  const principalId = '11111111-2222-4333-8444-555555555555';
  const name = 'aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee';
  const params = { roleDefinitionId: sender, principalId, principalType: 'ServicePrincipal' };

  const defs = await client.roleDefinitions.list(`/${scope}`.slice(1), { filter: "roleName eq 'Azure Service Bus Data Sender'" });
  const found = [];
  for await (const d of defs) found.push(d);
  expect(found.map((d) => d.name)).toEqual(['69a216fc-b8fb-44d8-bc22-1f3c2cd27a39']);

  await raw(emu, 'POST', `${emu.ready.adminUrl}faults`, { body: JSON.stringify({ principalNotFound: 1 }) });
  await expect(client.roleAssignments.create(scope, name, params)).rejects.toMatchObject({ statusCode: 400, code: 'PrincipalNotFound' });

  const created = await client.roleAssignments.create(scope, name, params);
  expect(created).toMatchObject({ name, principalId, scope: `/${scope}` });
  const got = await client.roleAssignments.get(`/${scope}`, name); // leading slash → //subscriptions, tolerated
  expect(got.id).toBe(created.id);
  await expect(client.roleAssignments.create(scope, 'ffffffff-bbbb-4ccc-8ddd-eeeeeeeeeeee', params)).rejects.toMatchObject({
    statusCode: 409,
    code: 'RoleAssignmentExists',
  });
  await expect(client.roleAssignments.create(scope, name, { ...params, principalId: '99999999-2222-4333-8444-555555555555' })).rejects.toMatchObject({
    statusCode: 400,
    code: 'RoleAssignmentUpdateNotPermitted',
  });

  const listed = [];
  for await (const a of client.roleAssignments.listForScope(`subscriptions/${emu.ready.subscriptionId}`, { filter: `principalId eq '${principalId}'` })) listed.push(a);
  expect(listed.map((a) => a.name)).toEqual([name]);
  const atScope = [];
  for await (const a of client.roleAssignments.listForScope(`subscriptions/${emu.ready.subscriptionId}`, { filter: 'atScope()' })) atScope.push(a);
  expect(atScope).toEqual([]); // the assignment is below the subscription

  const st = (await raw(emu, 'GET', `${emu.ready.adminUrl}state`)).body;
  expect(st.resources[`roleAssignments/${name}`].value.properties.principalId).toBe(principalId);

  const deleted = await client.roleAssignments.delete(scope, name);
  expect(deleted.name).toBe(name);
  const log = (await raw(emu, 'GET', `${emu.ready.adminUrl}requests`)).body.log as Array<{ method: string; status: number; path: string }>;
  await client.roleAssignments.delete(scope, name);
  const log2 = (await raw(emu, 'GET', `${emu.ready.adminUrl}requests`)).body.log as Array<{ method: string; status: number }>;
  expect(log2.slice(log.length).map((e) => `${e.method} ${e.status}`)).toEqual(['DELETE 204']);
  await expect(client.roleAssignments.get(scope, name)).rejects.toMatchObject({ statusCode: 404, code: 'RoleAssignmentNotFound' });
});

test('user-assigned identity GET creates a stable identity; missing api-version → 400', async () => {
  const token = (await credential.getToken(ARM_SCOPE))!.token;
  const path = `${emu.ready.armEndpoint}/subscriptions/${emu.ready.subscriptionId}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-1`;
  const a = await raw(emu, 'GET', `${path}?api-version=2024-11-30`, { headers: { Authorization: `Bearer ${token}` } });
  const b = await raw(emu, 'GET', `${path.toUpperCase().replace('HTTPS://127.0.0.1', 'https://127.0.0.1')}?api-version=2024-11-30`, { headers: { Authorization: `Bearer ${token}` } });
  expect(a.status).toBe(200);
  expect(a.body.properties.principalId).toMatch(/^[0-9a-f-]{36}$/);
  expect(b.body.properties.principalId).toBe(a.body.properties.principalId);
  expect(a.headers['x-ms-ratelimit-remaining-subscription-reads']).toMatch(/^\d+$/);
  const noVersion = await raw(emu, 'GET', path, { headers: { Authorization: `Bearer ${token}` } });
  expect(noVersion.status).toBe(400);
  expect(noVersion.body.error.code).toBe('MissingApiVersionParameter');
});

test('throttling: a burst beyond the bucket gets 429 with Retry-After; {} clears', async () => {
  const token = (await credential.getToken(ARM_SCOPE))!.token;
  const url = `${emu.ready.armEndpoint}/subscriptions/${emu.ready.subscriptionId}/resourceGroups/rg-id/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai-2?api-version=2024-11-30`;
  const set = await raw(emu, 'POST', `${emu.ready.adminUrl}faults`, { body: JSON.stringify({ throttle: { readBurst: 3, readRate: 0.5, writeBurst: 3, writeRate: 0.5 } }) });
  expect(set.status).toBe(200);
  const results = [];
  for (let i = 0; i < 6; i++) results.push(await raw(emu, 'GET', url, { headers: { Authorization: `Bearer ${token}` } }));
  expect(results.slice(0, 3).map((r) => r.status)).toEqual([200, 200, 200]);
  const throttled = results.filter((r) => r.status === 429);
  expect(throttled.length).toBeGreaterThanOrEqual(2);
  expect(Number(throttled[0].headers['retry-after'])).toBeGreaterThanOrEqual(1);
  expect(throttled[0].headers['x-ms-ratelimit-remaining-subscription-reads']).toBe('0');
  expect(throttled[0].body.error.code).toBe('TooManyRequests');
  await raw(emu, 'POST', `${emu.ready.adminUrl}faults`, { body: '{}' });
  expect((await raw(emu, 'GET', url, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
});

test('failWrites rolls back the write and answers the configured status', async () => {
  const token = (await credential.getToken(ARM_SCOPE))!.token;
  await raw(emu, 'POST', `${emu.ready.adminUrl}faults`, { body: JSON.stringify({ failWrites: { address: 'identity', status: 500, times: 1 } }) });
  const S = `${emu.ready.armEndpoint}/subscriptions/${emu.ready.subscriptionId}/resourceGroups/${emu.ready.resourceGroup}/providers/Microsoft.ApiManagement/service/${emu.ready.serviceName}?api-version=2024-05-01`;
  const patch = (type: string) => raw(emu, 'PATCH', S, { headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ identity: { type } }) });
  const first = await patch('None');
  expect(first.status).toBe(500);
  expect((await raw(emu, 'GET', `${emu.ready.adminUrl}state`)).body.resources.identity.value.type).toBe('SystemAssigned');
  const second = await patch('None');
  expect(second.status).toBe(202);
  expect(second.headers['location']).toBe(second.headers['azure-asyncoperation']);
  expect((await raw(emu, 'GET', `${emu.ready.adminUrl}state`)).body.resources.identity.value.type).toBe('None');
  await raw(emu, 'POST', `${emu.ready.adminUrl}faults`, { body: '{}' });
});

test('admin edit and the GitHub REST fake', async () => {
  const edit = await raw(emu, 'POST', `${emu.ready.adminUrl}edit`, { body: JSON.stringify({ address: 'namedValues/x', value: { a: 1 } }) });
  expect(edit.status).toBe(200);
  let st = (await raw(emu, 'GET', `${emu.ready.adminUrl}state`)).body;
  expect(st.resources['namedValues/x']).toEqual({ value: { a: 1 }, etag: expect.stringMatching(/^".+"$/) });
  await raw(emu, 'POST', `${emu.ready.adminUrl}edit`, { body: JSON.stringify({ address: 'namedValues/x', delete: true }) });
  st = (await raw(emu, 'GET', `${emu.ready.adminUrl}state`)).body;
  expect(st.resources['namedValues/x']).toBeUndefined();

  const api = `${emu.ready.env.GITHUB_API_URL}/repos/octo-org/octo-repo`;
  const h = { Authorization: 'token ghs_test', 'Content-Type': 'application/json' };
  expect((await raw(emu, 'POST', `${api}/issues/7/comments`, { body: JSON.stringify({ body: 'x' }) })).status).toBe(401);
  for (let i = 0; i < 3; i++) await raw(emu, 'POST', `${api}/issues/7/comments`, { headers: h, body: JSON.stringify({ body: `c${i}` }) });
  const page1 = await raw(emu, 'GET', `${api}/issues/7/comments?per_page=2`);
  expect(page1.body.map((c: { body: string }) => c.body)).toEqual(['c0', 'c1']);
  const next = /<([^>]+)>; rel="next"/.exec(String(page1.headers['link']))?.[1];
  expect(next).toBeDefined();
  const page2 = await raw(emu, 'GET', next!);
  expect(page2.body.map((c: { body: string }) => c.body)).toEqual(['c2']);
  expect(page2.headers['link'] ?? '').not.toContain('rel="next"');
  const upd = await raw(emu, 'PATCH', `${api}/issues/comments/${page2.body[0].id}`, { headers: h, body: JSON.stringify({ body: 'updated' }) });
  expect(upd.body).toMatchObject({ id: page2.body[0].id, body: 'updated', html_url: expect.stringContaining('#issuecomment-') });
  const tooLong = await raw(emu, 'POST', `${api}/issues/7/comments`, { headers: h, body: JSON.stringify({ body: 'x'.repeat(65537) }) });
  expect(tooLong.status).toBe(422);
  emu.github.setPulls('abc123', [{ number: 7 }]);
  expect((await raw(emu, 'GET', `${api}/commits/abc123/pulls`)).body).toEqual([{ number: 7 }]);
  const comments = (await raw(emu, 'GET', `${emu.ready.adminUrl}github/comments`)).body;
  expect(comments.comments).toEqual([
    { id: expect.any(Number), issueNumber: 7, author: 'github-actions[bot]', body: 'c0' },
    { id: expect.any(Number), issueNumber: 7, author: 'github-actions[bot]', body: 'c1' },
    { id: expect.any(Number), issueNumber: 7, author: 'github-actions[bot]', body: 'updated' },
  ]);

  // Each token is an account: a user's comment is its own, others may not edit it.
  const mallory = { Authorization: 'token ghp_mallory', 'Content-Type': 'application/json' };
  const hers = await raw(emu, 'POST', `${api}/issues/7/comments`, { headers: mallory, body: JSON.stringify({ body: 'mine' }) });
  expect(hers.body.user).toMatchObject({ login: 'mallory', type: 'User' });
  expect((await raw(emu, 'PATCH', `${api}/issues/comments/${hers.body.id}`, { headers: h, body: JSON.stringify({ body: 'taken' }) })).status).toBe(403);
  expect((await raw(emu, 'GET', `${emu.ready.env.GITHUB_API_URL}/user`, { headers: mallory })).body).toMatchObject({ login: 'mallory' });
  const bot = await raw(emu, 'GET', `${emu.ready.env.GITHUB_API_URL}/user`, { headers: h });
  expect([bot.status, bot.body.message]).toEqual([403, 'Resource not accessible by integration']);
  const viewer = await raw(emu, 'POST', `${emu.ready.env.GITHUB_API_URL}/graphql`, { headers: h, body: JSON.stringify({ query: 'query { viewer { login } }' }) });
  expect(viewer.body).toEqual({ data: { viewer: { login: 'github-actions[bot]' } } });
  expect((await raw(emu, 'GET', `${api}/issues/7/comments`, { headers: { Authorization: 'token not-a-github-token' } })).status).toBe(401);
  const reqs = (await raw(emu, 'GET', `${emu.ready.adminUrl}requests`)).body;
  expect(reqs.total).toBe(reqs.log.length);
  expect(reqs.log.every((e: { auth: string }) => e.auth === 'bearer' || e.auth === 'none')).toBe(true);
});
