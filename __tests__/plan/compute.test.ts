import { policyAddress } from '../../src/model/address.js';
import type { PolicyResource, PolicyScope, State } from '../../src/model/index.js';
import { computePlan, hasChanges } from '../../src/plan/compute.js';
import { policy } from '../helpers/tree.js';

function state(entries: Array<[PolicyScope, string, Partial<PolicyResource>?]>): State {
  const resources = new Map<string, PolicyResource>();
  for (const [scope, xml, extra] of entries) {
    const address = policyAddress(scope);
    resources.set(address.toLowerCase(), { type: 'policy', address, scope, xml, ...extra });
  }
  return { resources };
}

const source = { kind: 'snapshot' as const, path: 'live' };
const header = (value: string) => `<set-header name="x-v" exists-action="override"><value>${value}</value></set-header>`;
const api = (apiId: string): PolicyScope => ({ kind: 'api', apiId });

describe('computePlan', () => {
  it('classifies each resource as create, update, delete or no change', () => {
    const desired = state([
      [api('new'), policy()],
      [api('changed'), policy(header('2'))],
      [api('same'), policy(header('1'))],
    ]);
    const live = state([
      [api('changed'), policy(header('1'))],
      [api('same'), policy(header('1'))],
      [api('gone'), policy()],
    ]);
    const plan = computePlan({ state: desired }, { state: live }, { source });
    const actions = Object.fromEntries(plan.changes.map((c) => [c.address, c.action]));
    expect(actions).toEqual({
      'apis/new/policies/policy': 'create',
      'apis/changed/policies/policy': 'update',
      'apis/same/policies/policy': 'noop',
      'apis/gone/policies/policy': 'delete',
    });
    expect(plan.summary).toEqual({ create: 1, update: 1, delete: 1, unchanged: 1 });
    expect(hasChanges(plan)).toBe(true);
  });

  it('sees no change when only APIM-style formatting differs', () => {
    const desired = state([[api('a'), `<policies><inbound><set-variable name="v" value="@(context.Request.Headers.GetValueOrDefault("x", "") != "")" /></inbound></policies>`]]);
    const live = state([
      [
        api('a'),
        `\uFEFF<policies>\r\n\t<inbound>\r\n\t\t<set-variable value="@(context.Request.Headers.GetValueOrDefault(&quot;x&quot;, &quot;&quot;) != &quot;&quot;)" name="v"/>\r\n\t</inbound>\r\n</policies>`,
      ],
    ]);
    const plan = computePlan({ state: desired }, { state: live }, { source });
    expect(plan.changes.map((c) => c.action)).toEqual(['noop']);
    expect(hasChanges(plan)).toBe(false);
  });

  it('shows an update as a diff of only the lines that changed', () => {
    const plan = computePlan({ state: state([[api('a'), policy(header('new'))]]) }, { state: state([[api('a'), policy(header('old'))]]) }, { source });
    const [change] = plan.changes;
    expect(change!.added).toBe(1);
    expect(change!.removed).toBe(1);
    const changed = change!.diff!.split('\n').filter((l) => /^[+-][^+-]/.test(l));
    expect(changed).toEqual([expect.stringContaining('old'), expect.stringContaining('new')]);
    expect(changed[0]).toMatch(/^-/);
  });

  it('orders changes as apply runs them: fragments, global, products, APIs, operations; deletes last, in reverse', () => {
    const desired = state([
      [{ kind: 'operation', apiId: 'a', operationId: 'o' }, policy()],
      [api('a'), policy()],
      [{ kind: 'product', productId: 'p' }, policy()],
      [{ kind: 'global' }, policy()],
      [{ kind: 'fragment', fragmentId: 'f' }, '<fragment />'],
    ]);
    const live = state([
      [{ kind: 'fragment', fragmentId: 'old' }, '<fragment />'],
      [{ kind: 'operation', apiId: 'x', operationId: 'y' }, policy()],
    ]);
    const plan = computePlan({ state: desired }, { state: live }, { source });
    expect(plan.changes.map((c) => `${c.action} ${c.address}`)).toEqual([
      'create policyFragments/f',
      'create policies/policy',
      'create products/p/policies/policy',
      'create apis/a/policies/policy',
      'create apis/a/operations/o/policies/policy',
      'delete apis/x/operations/y/policies/policy',
      'delete policyFragments/old',
    ]);
  });

  it('records what apply needs: the desired XML, hashes and the live ETag', () => {
    const plan = computePlan({ state: state([[api('a'), policy(header('2'))]]) }, { state: state([[api('a'), policy(header('1')), { etag: '"AAAA"' }]]) }, { source, commit: 'abc123' });
    const [change] = plan.changes;
    expect(change!.desired!.xml).toBe(policy(header('2')));
    expect(change!.desired!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(change!.live).toEqual({ etag: '"AAAA"', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(change!.live!.sha256).not.toBe(change!.desired!.sha256);
    expect(plan.commit).toBe('abc123');
    expect(JSON.parse(JSON.stringify(plan))).toEqual(plan);
  });

  it('matches addresses case-insensitively, as ARM does', () => {
    const plan = computePlan({ state: state([[api('Echo'), policy()]]) }, { state: state([[api('echo'), policy()]]) }, { source });
    expect(plan.changes).toHaveLength(1);
    expect(plan.changes[0]!.action).toBe('noop');
  });

  it('updates a fragment whose description changed', () => {
    const frag: PolicyScope = { kind: 'fragment', fragmentId: 'f' };
    const plan = computePlan({ state: state([[frag, '<fragment />', { description: 'new' }]]) }, { state: state([[frag, '<fragment />', { description: 'old' }]]) }, { source });
    expect(plan.changes[0]!.action).toBe('update');
    expect(plan.changes[0]!.diff).toContain('description: "old" → "new"');
  });
});
