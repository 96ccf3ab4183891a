/**
 * The pure parts of the live layer: settling the target, the plan-time reference checks, and
 * apply's decisions (drift, retried writes that landed, restores that cannot be made), driven
 * through the LiveWriter interface by an in-memory instance.
 */
import { reusedUntilExpiry } from '../../src/azure/credential.js';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armTokenScope, resolveTarget, targetFingerprint } from '../../src/azure/target.js';
import { loadPolicyTree } from '../../src/desired/load-tree.js';
import { addressKey, parsePolicyAddress } from '../../src/model/address.js';
import { PreconditionFailed } from '../../src/model/live-errors.js';
import type { IdentityManifest } from '../../src/model/identity.js';
import type { IdentityShape, IdentityState, IdentityWriter, LiveCopy, LiveWriter, Plan, PolicyResource, RoleAssignment } from '../../src/model/index.js';
import { applyPlan, ApplyRefusedError } from '../../src/plan/apply.js';
import { computePlan } from '../../src/plan/compute.js';
import { sealPlan } from '../../src/plan/integrity.js';
import { identityType } from '../../src/azure/identity.js';
import { isManaged, planIdentity, roleAssignmentName, type Guardrails, type LiveIdentity } from '../../src/plan/identity.js';
import { checkReferences } from '../../src/plan/references.js';
import { makeTree, policy } from '../helpers/tree.js';

const SUB = '11111111-2222-4333-8444-555555555555';

describe('resolveTarget', () => {
  test('takes flags, falls back to the AZURE_* variables, defaults to oidc in Actions', () => {
    const { target, auth } = resolveTarget(
      { resourceGroup: 'rg', serviceName: 'apim', armEndpoint: 'https://management.usgovcloudapi.net/' },
      { AZURE_SUBSCRIPTION_ID: SUB, AZURE_TENANT_ID: 't', AZURE_CLIENT_ID: 'c', GITHUB_ACTIONS: 'true' },
    );
    expect(target).toEqual({ armEndpoint: 'https://management.usgovcloudapi.net', subscriptionId: SUB, resourceGroup: 'rg', serviceName: 'apim' });
    expect(auth).toMatchObject({ kind: 'oidc', tenantId: 't', clientId: 'c', audience: 'api://AzureADTokenExchange', inAction: true });
    expect(resolveTarget({ subscriptionId: SUB, resourceGroup: 'rg', serviceName: 'apim' }, {}).auth.kind).toBe('default');
  });

  test('reports every problem at once', () => {
    expect(() => resolveTarget({ subscriptionId: 'not-a-guid', armEndpoint: 'http://x', auth: 'oidc' }, {})).toThrow(
      /subscription-id "not-a-guid" is not a subscription ID.*--resource-group.*--service-name.*must be https.*--tenant-id.*--client-id/,
    );
    expect(() => resolveTarget({ subscriptionId: SUB, resourceGroup: 'r', serviceName: 's', auth: 'password' }, {})).toThrow(/--auth "password" is not one of oidc, azure-cli, default/);
  });

  test('token scope per cloud; the fingerprint ignores letter case and differs per instance and cloud', () => {
    expect(armTokenScope('https://management.azure.com')).toBe('https://management.azure.com/.default');
    expect(armTokenScope('https://management.chinacloudapi.cn')).toBe('https://management.chinacloudapi.cn/.default');
    expect(armTokenScope('https://127.0.0.1:4443')).toBe('https://management.azure.com/.default');
    const t = { armEndpoint: 'https://management.azure.com', subscriptionId: SUB, resourceGroup: 'rg', serviceName: 'apim' };
    expect(targetFingerprint({ ...t, resourceGroup: 'RG' })).toBe(targetFingerprint(t));
    expect(targetFingerprint({ ...t, serviceName: 'apim2' })).not.toBe(targetFingerprint(t));
    expect(targetFingerprint({ ...t, armEndpoint: 'https://management.usgovcloudapi.net' })).not.toBe(targetFingerprint(t));
  });
});

describe('checkReferences', () => {
  test('finds missing fragments, named values and backends outside comments, once per name, at the element', async () => {
    const dir = makeTree({
      'workspaces/w1/apis/a/policy.xml': policy(
        '<!-- <include-fragment fragment-id="in-a-comment" /> {{commented}} -->\n' +
          '        <include-fragment fragment-id="ws-frag" />\n' +
          '        <include-fragment fragment-id="gone" />\n' +
          '        <set-header name="k" exists-action="override"><value>{{Known}}-{{ws-only}}-{{missing}}-{{missing}}</value></set-header>\n' +
          '        <set-variable name="x" value="@(&quot;{{in-expr}}&quot;)" />\n' +
          '        <set-backend-service backend-id="be" />\n' +
          '        <set-header name="t" exists-action="override"><value>{{ not a named value }}</value></set-header>',
      ),
    });
    const tree = await loadPolicyTree(dir, { label: 'p' });
    expect(tree.diagnostics).toEqual([]);
    const found = checkReferences(tree.state.resources.values(), tree.documents, {
      fragments: new Set([addressKey('workspaces/w1/policyFragments/ws-frag')]),
      namedValues: new Set(['known', 'workspaces/w1/ws-only']),
      backends: new Set(),
    });
    expect(found.map((d) => [d.rule, d.line, /"([^"]+)"/.exec(d.message)![1]])).toEqual([
      ['missing-fragment', 5, 'gone'],
      ['missing-named-value', 6, '{{missing}}'],
      ['missing-named-value', 7, '{{in-expr}}'],
      ['missing-backend', 8, 'be'],
    ]);
    expect(found.every((d) => d.file === join('p', 'workspaces/w1/apis/a/policy.xml') && d.severity === 'error')).toBe(true);
  });
});

/** An APIM instance in memory, with ETags that change on every write and If-Match checks. */
class MemoryInstance implements LiveWriter {
  items = new Map<string, LiveCopy>();
  private n = 0;
  failPut = new Map<string, (attempt: number) => 'fail' | 'land-then-412' | undefined>();
  private attempts = new Map<string, number>();
  writes: string[] = [];
  set(address: string, xml: string): void {
    this.items.set(address, { address, xml, etag: `"e${++this.n}"` });
  }
  async read(address: string) {
    const c = this.items.get(address);
    return c ? { ...c } : undefined;
  }
  async put(address: string, xml: string, { ifMatch }: { ifMatch?: string }) {
    const attempt = (this.attempts.get(address) ?? 0) + 1;
    this.attempts.set(address, attempt);
    const rule = this.failPut.get(address)?.(attempt);
    if (rule === 'fail') throw Object.assign(new Error(`PUT ${address}: ARM answered 400`), { statusCode: 400 });
    const cur = this.items.get(address);
    if (rule === 'land-then-412') {
      this.set(address, xml);
      throw Object.assign(new PreconditionFailed('precondition'), { statusCode: 412 });
    }
    if (cur && ifMatch && ifMatch !== '*' && ifMatch !== cur.etag) throw Object.assign(new PreconditionFailed('precondition'), { statusCode: 412 });
    this.writes.push(`PUT ${address}`);
    this.set(address, xml);
    return { etag: this.items.get(address)!.etag };
  }
  async remove(address: string, ifMatch: string) {
    const cur = this.items.get(address);
    if (cur && ifMatch !== '*' && ifMatch !== cur.etag) throw Object.assign(new PreconditionFailed('precondition'), { statusCode: 412 });
    this.writes.push(`DELETE ${address}`);
    this.items.delete(address);
  }
}

const source = { kind: 'azure' as const, serviceId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.ApiManagement/service/s', armEndpoint: 'https://management.azure.com', fingerprint: 'f' };
const header = (v: string) => policy(`<set-header name="v" exists-action="override"><value>${v}</value></set-header>`);

function planFor(instance: MemoryInstance, desired: Record<string, string>): Plan {
  const resources = (m: Map<string, { xml: string; etag?: string }>) =>
    new Map([...m].map(([a, r]) => [addressKey(a), { type: 'policy', address: a, scope: parsePolicyAddress(a)!, xml: r.xml, ...(r.etag ? { etag: r.etag } : {}) } as PolicyResource]));
  return computePlan({ state: { resources: resources(new Map(Object.entries(desired).map(([a, xml]) => [a, { xml }]))) } }, { state: { resources: resources(instance.items) } }, { source });
}

describe('applyPlan', () => {
  const snapshotFile = () => join(mkdtempSync(join(tmpdir(), 'apim-policy-apply-')), 'snap.json');

  test('a retried write whose first attempt landed (412 on its own ETag) counts as written', async () => {
    const live = new MemoryInstance();
    live.set('apis/a/policies/policy', header('1'));
    const plan = planFor(live, { 'apis/a/policies/policy': header('2') });
    live.failPut.set('apis/a/policies/policy', (n) => (n === 1 ? 'land-then-412' : undefined));
    const result = await applyPlan(plan, live, { targetFingerprint: 'f', allowDeletes: false, snapshotFile: snapshotFile() });
    expect(result.ok).toBe(true);
    expect(result.applied.map((c) => c.address)).toEqual(['apis/a/policies/policy']);
  });

  test('refuses another target, and a plan whose resources moved, before writing or snapshotting', async () => {
    const live = new MemoryInstance();
    live.set('apis/a/policies/policy', header('1'));
    const plan = planFor(live, { 'apis/a/policies/policy': header('2'), 'apis/b/policies/policy': header('2') });
    await expect(applyPlan(plan, live, { targetFingerprint: 'other', allowDeletes: false, snapshotFile: snapshotFile() })).rejects.toThrow(/made for .*service\/s/);
    live.set('apis/a/policies/policy', header('portal'));
    live.set('apis/b/policies/policy', header('portal'));
    const file = snapshotFile();
    const err = await applyPlan(plan, live, { targetFingerprint: 'f', allowDeletes: false, snapshotFile: file }).catch((e) => e);
    expect(err).toBeInstanceOf(ApplyRefusedError);
    expect((err as ApplyRefusedError).changed).toEqual(['apis/a/policies/policy', 'apis/b/policies/policy']);
    expect(err.message).toContain('apis/b/policies/policy was created live since the plan');
    expect(live.writes).toEqual([]);
    expect(() => readFileSync(file)).toThrow();
  });

  test("a restore that meets someone else's later edit says so and keeps that edit; the snapshot has what was there", async () => {
    const live = new MemoryInstance();
    live.set('policyFragments/f', '<fragment><base /></fragment>'.replace('<base />', '<set-variable name="a" value="1" />'));
    live.set('apis/a/policies/policy', header('1'));
    const plan = planFor(live, { 'policyFragments/f': '<fragment><set-variable name="a" value="2" /></fragment>', 'apis/a/policies/policy': header('2') });
    // After the fragment is written, a person edits it; then the API write fails for good.
    live.failPut.set('apis/a/policies/policy', () => {
      live.set('policyFragments/f', '<fragment><set-variable name="a" value="person" /></fragment>');
      return 'fail';
    });
    const file = snapshotFile();
    const result = await applyPlan(plan, live, { targetFingerprint: 'f', allowDeletes: false, snapshotFile: file });
    expect(result.ok).toBe(false);
    expect(result.error).toContain('PUT apis/a/policies/policy');
    expect(result.restored).toEqual([{ address: 'policyFragments/f', ok: false, message: `NOT restored: it was changed by someone else after this run wrote it; its earlier content is in ${file}` }]);
    expect(live.items.get('policyFragments/f')!.xml).toContain('person');
    const snapshot = JSON.parse(readFileSync(file, 'utf8'));
    expect(snapshot.resources.find((r: { address: string }) => r.address === 'policyFragments/f').xml).toContain('value="1"');
  });
});

/** The instance's identity and role assignments in memory, behind the IdentityWriter apply uses. */
class MemoryIdentity implements IdentityWriter {
  state: IdentityState = { shape: { systemAssigned: false, userAssigned: [] } };
  assignments = new Map<string, { scope: string; principalId: string; roleDefinitionGuid: string }>();
  log: string[] = [];
  async readIdentity() {
    return structuredClone(this.state);
  }
  async setIdentity(shape: IdentityShape) {
    this.log.push(`identity ${identityType(shape)}`);
    this.state = { shape: structuredClone(shape), ...(shape.systemAssigned ? { systemPrincipalId: 'a1a1a1a1-0000-4000-8000-000000000001' } : {}) };
    return this.readIdentity();
  }
  async readAssignment(_scope: string, name: string) {
    return this.assignments.get(name);
  }
  async createAssignment(a: RoleAssignment & { name: string; principalId: string }) {
    this.log.push(`create ${a.roleName}`);
    this.assignments.set(a.name, { scope: a.scope, principalId: a.principalId, roleDefinitionGuid: a.roleDefinitionGuid });
  }
  async deleteAssignment(_scope: string, name: string) {
    this.log.push(`delete ${name}`);
    this.assignments.delete(name);
  }
}

describe('applyPlan with identity and role assignments', () => {
  const snapshotFile = () => join(mkdtempSync(join(tmpdir(), 'apim-policy-apply-')), 'snap.json');
  const scope = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces/sb`;
  const manifestOf = (role = 'Azure Service Bus Data Sender', guid = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'): IdentityManifest => ({
    file: 'policies/identity.yaml',
    systemAssigned: true,
    userAssigned: [],
    roleAssignments: [{ identity: 'system', role, roleDefinitionGuid: guid, scope, at: { file: 'policies/identity.yaml', line: 5, column: 5 } }],
  });
  const liveOf = (ids: MemoryIdentity): LiveIdentity => ({
    shape: ids.state.shape,
    userAssigned: new Map(),
    assignments: [],
    roleNames: new Map([
      ['69a216fc-b8fb-44d8-bc22-1f3c2cd27a39', 'Azure Service Bus Data Sender'],
      ['8e3af657-a8ff-443c-a75c-2fe8c4bcb635', 'Owner'],
    ]),
    resolvedRoles: new Map(),
    knownRoleNames: [],
    keyVaultUsers: [],
  });
  const planWith = (live: MemoryInstance, ids: MemoryIdentity, desired: Record<string, string>, manifest: IdentityManifest, guardrails: Guardrails): Plan => {
    const plan = planFor(live, desired);
    const planned = planIdentity(manifest, liveOf(ids), guardrails);
    plan.changes = [...planned.first, ...plan.changes, ...planned.last];
    plan.problems.push(...planned.problems);
    // As the pipeline does after adding the identity plan: apply refuses a plan changed after its hashes were made.
    return sealPlan(plan);
  };
  const strict: Guardrails = { allowPrivilegedRoles: false, allowedScopes: [`/subscriptions/${SUB}`] };

  test('a policy write that fails undoes the role assignment and the identity this run made, newest first', async () => {
    const live = new MemoryInstance();
    live.set('apis/a/policies/policy', header('1'));
    const ids = new MemoryIdentity();
    const plan = planWith(live, ids, { 'apis/a/policies/policy': header('2') }, manifestOf(), strict);
    live.failPut.set('apis/a/policies/policy', () => 'fail');
    const result = await applyPlan(plan, live, { targetFingerprint: 'f', allowDeletes: false, snapshotFile: snapshotFile(), identityWriter: ids, guardrails: strict });
    expect(result.ok).toBe(false);
    expect(ids.log).toEqual(['identity SystemAssigned', 'create Azure Service Bus Data Sender', expect.stringMatching(/^delete [0-9a-f-]{36}$/), 'identity None']);
    expect(result.restored.map((r) => [r.address.replace(/[0-9a-f-]{36}$/, '<guid>'), r.ok, r.message])).toEqual([
      ['roleAssignments/<guid>', true, 'deleted again (it did not exist before)'],
      ['identity', true, 'identity set back as it was'],
    ]);
    expect(ids.state.shape).toEqual({ systemAssigned: false, userAssigned: [] });
    expect(ids.assignments.size).toBe(0);
  });

  test('a saved plan is checked against the guardrails of the run that applies it', async () => {
    const live = new MemoryInstance();
    const ids = new MemoryIdentity();
    const loose: Guardrails = { allowPrivilegedRoles: true, allowedScopes: ['/'] };
    const plan = planWith(live, ids, {}, manifestOf('Owner', '8e3af657-a8ff-443c-a75c-2fe8c4bcb635'), loose);
    expect(plan.problems).toEqual([]);
    const err = await applyPlan(plan, live, { targetFingerprint: 'f', allowDeletes: false, snapshotFile: snapshotFile(), identityWriter: ids, guardrails: strict }).catch((e) => e);
    expect(err).toBeInstanceOf(ApplyRefusedError);
    expect(err.message).toMatch(/guardrails refuse this plan; nothing was written\. Owner for system .*"Owner" is a privileged role; input allow-privileged-roles: true/);
    expect(ids.log).toEqual([]);
  });

  test('the same (scope, principal, role) always gets the same name, and only names the tool gives count as its own', () => {
    const a = roleAssignmentName(scope, 'A1A1A1A1-0000-4000-8000-000000000001', '69A216FC-B8FB-44D8-BC22-1F3C2CD27A39');
    expect(a).toBe(roleAssignmentName(scope.toLowerCase(), 'a1a1a1a1-0000-4000-8000-000000000001', '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39'));
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a).not.toBe(roleAssignmentName(scope, 'a1a1a1a1-0000-4000-8000-000000000001', '4f6d3b9b-027b-4f4c-9142-0e5a2a2247e0'));
    const live = { scope, principalId: 'a1a1a1a1-0000-4000-8000-000000000001', roleDefinitionGuid: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39' };
    expect(isManaged({ ...live, name: a })).toBe(true);
    expect(isManaged({ ...live, name: '0f0f0f0f-1111-4222-8333-444444444444' })).toBe(false);
  });
});

describe('the GitHub ID token of an OIDC login', () => {
  const jwt = (exp?: number) => `e30.${Buffer.from(JSON.stringify(exp === undefined ? {} : { exp })).toString('base64url')}.sig`;

  test('is fetched once and handed out again until a minute before it expires, then fetched anew', async () => {
    let t = 1_000_000;
    const fetched: string[] = [];
    const next = [jwt(1_000 + 300), jwt(1_000 + 600)];
    const assertion = reusedUntilExpiry(
      async () => {
        fetched.push(next[fetched.length]!);
        return fetched[fetched.length - 1]!;
      },
      () => t,
    );
    // MSAL asks more than once for one exchange, before the first answer is in: one fetch.
    const [a, b] = await Promise.all([assertion(), assertion()]);
    expect([a, b, fetched.length]).toEqual([next[0], next[0], 1]);
    t = (1_000 + 300 - 61) * 1000;
    expect(await assertion()).toBe(next[0]);
    t = (1_000 + 300 - 59) * 1000;
    expect(await assertion()).toBe(next[1]);
    expect(fetched).toHaveLength(2);
  });

  test('a failed fetch is not kept, and a token that does not say when it expires is not used twice', async () => {
    let calls = 0;
    const assertion = reusedUntilExpiry(async () => {
      calls++;
      if (calls === 1) throw new Error('HTTP 500 from the ID token endpoint');
      return jwt();
    });
    await expect(assertion()).rejects.toThrow('HTTP 500');
    expect(await assertion()).toBe(jwt());
    await assertion();
    expect(calls).toBe(3);
  });
});
