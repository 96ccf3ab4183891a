/**
 * computePlan makes the whole plan in one call from in-memory states: policies, the identity and
 * its role assignments, reference checks, guardrails, the empty-tree guard, summary and seal.
 */
import type { IdentityManifest } from '../../src/model/identity.js';
import { addressKey, parsePolicyAddress } from '../../src/model/address.js';
import type { AzureSource, PolicyResource, State } from '../../src/model/index.js';
import type { LiveIdentity, LiveState } from '../../src/model/live.js';
import { computePlan, type PlanDesired } from '../../src/plan/compute.js';
import { verifyPlan } from '../../src/plan/integrity.js';
import { parsePolicyDocument } from '../../src/policy-xml/index.js';
import { policy } from '../helpers/tree.js';

const SUB = '00000000-0000-0000-0000-000000000001';
const source: AzureSource = {
  kind: 'azure',
  serviceId: `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim`,
  armEndpoint: 'https://management.azure.com',
  fingerprint: 'f',
};
const SENDER = '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39';
const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const scope = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.ServiceBus/namespaces/sb`;

function state(entries: Record<string, string>, etag?: string): State {
  const resources = new Map<string, PolicyResource>();
  for (const [address, xml] of Object.entries(entries)) {
    resources.set(addressKey(address), { type: 'policy', address, scope: parsePolicyAddress(address)!, xml, ...(etag ? { etag } : {}) });
  }
  return { resources };
}

function desiredOf(entries: Record<string, string>, identity?: IdentityManifest): PlanDesired {
  const s = state(entries);
  const documents = { get: (key: string) => (s.resources.get(key) ? parsePolicyDocument(s.resources.get(key)!.xml, { file: key }) : undefined) };
  return { state: s, documents, ...(identity ? { identity } : {}) };
}

const manifest: IdentityManifest = {
  file: 'policies/identity.yaml',
  systemAssigned: true,
  userAssigned: [],
  roleAssignments: [
    { identity: 'system', role: 'Azure Service Bus Data Sender', roleDefinitionGuid: SENDER, scope, at: { file: 'policies/identity.yaml', line: 5, column: 5 } },
    { identity: 'system', role: 'Owner', roleDefinitionGuid: OWNER, scope, at: { file: 'policies/identity.yaml', line: 9, column: 5 } },
  ],
};

const rbac: LiveIdentity = {
  shape: { systemAssigned: false, userAssigned: [] },
  userAssigned: new Map(),
  assignments: [],
  roleNames: new Map([
    [SENDER, 'Azure Service Bus Data Sender'],
    [OWNER, 'Owner'],
  ]),
  resolvedRoles: new Map(),
  knownRoleNames: [],
  keyVaultUsers: [],
};

const guardrails = { allowPrivilegedRoles: false, allowedScopes: [`/subscriptions/${SUB}`] };

describe('computePlan: the whole plan in one call', () => {
  test('identity, role assignments, policies, reference checks and guardrails, in apply order, sealed', () => {
    const desired = desiredOf({ 'apis/a/policies/policy': policy('<set-header name="k" exists-action="override"><value>{{missing}}</value></set-header>'), 'policies/policy': policy() }, manifest);
    const live: LiveState = {
      state: state({ 'policies/policy': policy(), 'products/p/policies/policy': policy() }, '"1"'),
      names: { namedValues: new Set(), backends: new Set(), namedValueValues: new Map() },
      rbac,
      problems: [{ severity: 'warning', rule: 'live-id', file: source.serviceId, line: 1, column: 1, message: 'a live id' }],
    };
    const plan = computePlan(desired, live, { source, guardrails, policiesRoot: { path: 'policies' } });
    expect(plan.changes.map((c) => `${c.action} ${c.address}`)).toEqual([
      'update identity',
      expect.stringMatching(/^create roleAssignments\/\(known after apply #1\)$/),
      'noop policies/policy',
      'create apis/a/policies/policy',
      'delete products/p/policies/policy',
    ]);
    expect(plan.summary).toEqual({ create: 2, update: 1, delete: 1, unchanged: 1 });
    expect(plan.problems.map((p) => `${p.severity} ${p.rule}`)).toEqual(['error missing-named-value', 'error guardrail', 'warning live-id']);
    expect(verifyPlan(plan).reasons).toEqual([]);
  });

  test('a tree with nothing to deploy plans no deletes and names the folder', () => {
    const live: LiveState = { state: state({ 'policies/policy': policy(), 'apis/a/policies/policy': policy() }, '"1"') };
    const plan = computePlan(desiredOf({}), live, { source, policiesRoot: { path: 'wrong/folder', guess: 'wrong/folder/policies' } });
    expect(plan.changes).toEqual([]);
    expect(plan.summary).toEqual({ create: 0, update: 0, delete: 0, unchanged: 0 });
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0]).toMatchObject({ severity: 'error', rule: 'policies-root', file: 'wrong/folder' });
    expect(plan.problems[0]!.message).toContain('did you mean `wrong/folder/policies`?');
    expect(verifyPlan(plan).reasons).toEqual([]);
  });

  test('against a snapshot folder identity.yaml is not planned, and the plan says so', () => {
    const plan = computePlan(desiredOf({ 'policies/policy': policy() }, manifest), { state: state({ 'policies/policy': policy() }) }, { source: { kind: 'snapshot', path: 'snap' } });
    expect(plan.changes.map((c) => c.address)).toEqual(['policies/policy']);
    expect(plan.problems).toEqual([expect.objectContaining({ severity: 'warning', rule: 'identity-not-planned', file: 'policies/identity.yaml' })]);
  });

  test('a scoped plan plans only the addresses it names and says it is scoped', () => {
    const desired = desiredOf({ 'apis/a/policies/policy': policy('<set-header name="x" exists-action="override"><value>1</value></set-header>'), 'apis/b/policies/policy': policy() });
    const live: LiveState = { state: state({ 'apis/a/policies/policy': policy() }, '"1"'), names: { namedValues: new Set(), backends: new Set(), namedValueValues: new Map() } };
    const plan = computePlan(desired, live, { source, scope: { addresses: ['apis/a/policies/policy'], base: 'base', read: 1, identity: false } });
    expect(plan.changes.map((c) => `${c.action} ${c.address}`)).toEqual(['update apis/a/policies/policy']);
    expect(plan.scoped).toEqual({ base: 'base', read: 1, identity: false });
    expect(Object.keys(plan).slice(-2)).toEqual(['integrity', 'scoped']);
  });
});
