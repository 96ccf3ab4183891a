/**
 * Issue 16: what a named value or backend change reaches (impact.ts), and deletes the plan refuses
 * because something remaining after apply still uses the resource (delete-guards.ts).
 */
import { policyAddress } from '../../src/model/address.js';
import type { EntityResource } from '../../src/model/entities.js';
import type { Change, PolicyResource, PolicyScope } from '../../src/model/index.js';
import { deleteGuards } from '../../src/plan/delete-guards.js';
import { addImpact } from '../../src/plan/impact.js';
import { impactHead } from '../../src/render/labels.js';
import { policy } from '../helpers/tree.js';

function resource(scope: PolicyScope, xml: string, file?: string): PolicyResource {
  return { type: 'policy', address: policyAddress(scope), scope, xml, ...(file ? { file } : {}) };
}
const fragment = (body: string) => `<fragment>\n${body}\n</fragment>`;
const frag = (fragmentId: string, workspace?: string): PolicyScope => ({ kind: 'fragment', fragmentId, ...(workspace ? { workspace } : {}) });
const api = (apiId: string, workspace?: string): PolicyScope => ({ kind: 'api', apiId, ...(workspace ? { workspace } : {}) });
const header = (value: string) => `<set-header name="x-a" exists-action="override"><value>${value}</value></set-header>`;

function entity(kind: 'namedValue' | 'backend', id: string, properties: Record<string, unknown>, workspace?: string, file?: string): EntityResource {
  const address = `${workspace ? `workspaces/${workspace}/` : ''}${kind === 'namedValue' ? 'namedValues' : 'backends'}/${id}`;
  return { type: 'entity', kind, address, id, properties, ...(workspace ? { workspace } : {}), ...(file ? { file, line: 1 } : {}) };
}
const change = (resourceType: Change['resourceType'], address: string, action: Change['action'] = 'update'): Change => ({ address, action, resourceType });

describe('impact of named value and backend changes', () => {
  it('finds {{name}} in attributes, text, CDATA and expressions, case-insensitively and by display name, directly and through fragments', () => {
    const after = [
      resource({ kind: 'global' }, policy(`<include-fragment fragment-id="auth" />`)),
      resource(frag('auth'), fragment(`<set-variable name="k" value="@(&quot;{{ApiKey}}&quot;)" />`)),
      resource(api('orders'), policy(header('{{apikey}}'))),
      resource(api('cdata'), policy(`<set-body><![CDATA[{{Api-Key-Display}}]]></set-body>`)),
      resource(api('attr'), policy(`<set-query-parameter name="{{APIKEY}}" exists-action="override"><value>1</value></set-query-parameter>`)),
      resource(api('other'), policy(header('{{other}}'))),
    ];
    const entities = [entity('namedValue', 'apikey', { displayName: 'Api-Key-Display', value: 'x' }), entity('namedValue', 'other', { displayName: 'other' })];
    const changes = [change('namedValue', 'namedValues/apikey'), change('namedValue', 'namedValues/other', 'noop')];
    addImpact(changes, after, undefined, entities);
    expect(changes[0]!.impact).toEqual(['policies/policy', 'apis/attr/policies/policy', 'apis/cdata/policies/policy', 'apis/orders/policies/policy']);
    expect(changes[1]!.impact).toBeUndefined();
  });

  it('lists backends whose properties name the value, and policies that set backend-id', () => {
    const after = [
      resource(api('orders'), policy(`<set-backend-service backend-id="Orders-Backend" />`)),
      resource(frag('route'), fragment(`<set-backend-service backend-id="orders-backend" />`)),
      resource(api('routed'), policy(`<include-fragment fragment-id="route" />`)),
      resource(api('plain'), policy(`<set-backend-service base-url="https://orders-backend.example.com" />`)),
    ];
    const entities = [
      entity('namedValue', 'orders-key', { displayName: 'orders-key' }),
      entity('backend', 'orders-backend', { url: 'https://x', credentials: { header: { 'x-key': ['{{orders-key}}'] } } }),
    ];
    const changes = [change('backend', 'backends/orders-backend', 'create'), change('namedValue', 'namedValues/orders-key')];
    addImpact(changes, after, undefined, entities);
    expect(changes[0]!.impact).toEqual(['apis/orders/policies/policy', 'apis/routed/policies/policy']);
    // Through the backend to the policies that use it.
    expect(changes[1]!.impact).toEqual(['backends/orders-backend', 'apis/orders/policies/policy', 'apis/routed/policies/policy']);
    expect(impactHead(changes[1]!.impact!, 'namedValue')).toBe('is used by 1 backend and 2 policies');
    expect(impactHead(changes[0]!.impact!, 'backend')).toBe('is used by 2 policies');
    expect(impactHead([], 'namedValue')).toBe('is used by no policy');
  });

  it('a backend nobody uses still shows for the named value it names: "1 backend"', () => {
    const entities = [entity('namedValue', 'k', { displayName: 'k' }), entity('backend', 'idle', { url: 'https://x', credentials: { query: { k: ['{{k}}'] } } })];
    const changes = [change('namedValue', 'namedValues/k')];
    addImpact(changes, [resource(api('a'), policy())], undefined, entities);
    expect(changes[0]!.impact).toEqual(['backends/idle']);
    expect(impactHead(changes[0]!.impact!, 'namedValue')).toBe('is used by 1 backend');
  });

  it("resolves a workspace policy's names to the workspace's entity when it has one, else to the service's", () => {
    const after = [resource(api('a', 'team'), policy(header('{{shared}}') + header('{{own}}')), 'workspaces/team/apis/a/policy.xml'), resource(api('b'), policy(header('{{own}}')))];
    const entities = [entity('namedValue', 'shared', {}), entity('namedValue', 'own', {}), entity('namedValue', 'own', {}, 'team')];
    const changes = [change('namedValue', 'namedValues/shared'), change('namedValue', 'namedValues/own'), change('namedValue', 'workspaces/team/namedValues/own')];
    addImpact(changes, after, undefined, entities);
    expect(changes.map((c) => c.impact)).toEqual([['workspaces/team/apis/a/policies/policy'], ['apis/b/policies/policy'], ['workspaces/team/apis/a/policies/policy']]);
  });
});

describe('deleteGuards', () => {
  it('refuses to delete a named value, backend or fragment that remaining resources use, naming each user with its file and line, live-only ones too', () => {
    const after = [
      resource(api('orders'), policy(header('{{ApiKey}}')), 'apis/orders/policy.xml'),
      // Live only: the plan keeps it, so it still uses the fragment after apply.
      resource(api('live-only'), policy(`<include-fragment fragment-id="auth" />`)),
      resource(api('clean'), policy(), 'apis/clean/policy.xml'),
    ];
    const entities = [entity('backend', 'b', { url: 'https://x', credentials: { query: { k: ['{{apikey}}'] } } }, undefined, 'backends/b/backendInformation.json')];
    const changes = [
      change('namedValue', 'namedValues/apikey', 'delete'),
      change('fragment', 'policyFragments/auth', 'delete'),
      change('backend', 'backends/unused', 'delete'),
      change('namedValue', 'namedValues/apikey2', 'update'),
    ];
    const found = deleteGuards(changes, after, undefined, entities);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatchObject({ severity: 'error', rule: 'delete-in-use', file: 'apis/orders/policy.xml', line: 3, address: 'namedValues/apikey' });
    expect(found[0]!.message).toBe(
      'the plan deletes named value namedValues/apikey, but after apply apis/orders/policies/policy (apis/orders/policy.xml line 3), backends/b (backends/b/backendInformation.json line 1) still use it; ' +
        'remove the uses first, or keep named values/apikey/namedValueInformation.json in the tree',
    );
    expect(found[1]).toMatchObject({ file: 'apis/live-only/policies/policy', address: 'policyFragments/auth' });
    expect(found[1]!.message).toContain('apis/live-only/policies/policy (live only) still uses it');
    expect(found[1]!.message).toContain('keep policy fragments/auth/policy.xml in the tree');
  });

  it('lets a delete through when its only users are deleted too, or a workspace entity shadows it', () => {
    const after = [resource(api('a', 'team'), policy(header('{{k}}')))];
    const changes = [change('namedValue', 'namedValues/k', 'delete'), change('fragment', 'policyFragments/x', 'delete')];
    expect(deleteGuards(changes, after, undefined, [entity('namedValue', 'k', {}, 'team')])).toEqual([]);
    // Without the workspace's own value the workspace policy falls back to the service's.
    expect(deleteGuards(changes, after, undefined, [])).toHaveLength(1);
  });
});
