/**
 * Issue 16, "what a change reaches": a changed fragment lists the policies that run it, directly
 * or through other fragments, from the tree and what live keeps after apply; every renderer shows it.
 */
import { policyAddress } from '../../src/model/address.js';
import type { PolicyResource, PolicyScope, State } from '../../src/model/index.js';
import { computePlan } from '../../src/plan/compute.js';
import { verifyPlan } from '../../src/plan/integrity.js';
import { renderJson } from '../../src/render/json.js';
import { renderMarkdown } from '../../src/render/markdown.js';
import { renderText } from '../../src/render/text.js';
import { policy } from '../helpers/tree.js';

function state(entries: Array<[PolicyScope, string]>): State {
  const resources = new Map<string, PolicyResource>();
  for (const [scope, xml] of entries) {
    const address = policyAddress(scope);
    resources.set(address.toLowerCase(), { type: 'policy', address, scope, xml, etag: '"e1"' });
  }
  return { resources };
}

const source = { kind: 'snapshot' as const, path: 'live' };
const frag = (fragmentId: string): PolicyScope => ({ kind: 'fragment', fragmentId });
const api = (apiId: string): PolicyScope => ({ kind: 'api', apiId });
const op = (apiId: string, operationId: string): PolicyScope => ({ kind: 'operation', apiId, operationId });
const include = (id: string) => `<include-fragment fragment-id="${id}" />`;
const fragment = (body: string) => `<fragment>${body}</fragment>`;
const HEADER = '<set-header name="x-a" exists-action="override"><value>1</value></set-header>';
const HEADER2 = '<set-header name="x-a" exists-action="override"><value>2</value></set-header>';

describe('impact of fragment changes', () => {
  it('lists direct and transitive users, from the tree and from live, once each, guarding against cycles', () => {
    const desired = state([
      [frag('inner'), fragment(HEADER2)],
      [frag('outer'), fragment(include('inner') + include('outer'))],
      [frag('loop-a'), fragment(include('loop-b'))],
      [frag('loop-b'), fragment(include('loop-a') + include('inner'))],
      [{ kind: 'global' }, policy(include('outer'))],
      [api('orders'), policy(include('inner') + include('outer'))],
      [op('orders', 'send'), policy(include('loop-a'))],
      [api('other'), policy()],
    ]);
    const live = state([
      [frag('inner'), fragment(HEADER)],
      [frag('outer'), fragment(include('inner') + include('outer'))],
      [frag('loop-a'), fragment(include('loop-b'))],
      [frag('loop-b'), fragment(include('loop-a') + include('inner'))],
      [{ kind: 'global' }, policy(include('outer'))],
      [api('orders'), policy(include('inner') + include('outer'))],
      [op('orders', 'send'), policy(include('loop-a'))],
      [api('other'), policy()],
    ]);
    // A PR-scoped plan reads only the fragment: live policies outside the scope remain after apply.
    const scopedLive = state([
      [frag('inner'), fragment(HEADER)],
      [api('live-only'), policy(include('inner'))],
    ]);
    const plan = computePlan({ state: desired }, { state: live }, { source });
    const inner = plan.changes.find((c) => c.address === 'policyFragments/inner')!;
    expect(inner.action).toBe('update');
    expect(inner.impact).toEqual(['policies/policy', 'apis/orders/policies/policy', 'apis/orders/operations/send/policies/policy']);
    expect(plan.changes.filter((c) => c.action === 'noop').every((c) => c.impact === undefined)).toBe(true);

    const scoped = computePlan({ state: desired }, { state: scopedLive }, { source, scope: { addresses: ['policyFragments/inner'], base: 'main', read: 1, identity: false } });
    expect(scoped.changes.find((c) => c.address === 'policyFragments/inner')!.impact).toEqual([
      'policies/policy',
      'apis/live-only/policies/policy',
      'apis/orders/policies/policy',
      'apis/orders/operations/send/policies/policy',
    ]);
  });

  it('does not count a live policy the plan deletes; a fragment nobody includes says so', () => {
    const desired = state([[frag('f'), fragment(HEADER2)]]);
    const live = state([
      [frag('f'), fragment(HEADER)],
      [api('gone'), policy(include('f'))],
    ]);
    const plan = computePlan({ state: desired }, { state: live }, { source });
    const f = plan.changes.find((c) => c.address === 'policyFragments/f')!;
    expect(f.impact).toEqual([]);
    expect(renderText(plan)).toContain('`f` is included by no policy');
  });

  it('renders: text caps the inline list, markdown folds all of them into <details>, JSON carries impact; the plan still verifies', () => {
    const apis = Array.from({ length: 13 }, (_, i) => `api-${String(i).padStart(2, '0')}`);
    const users: Array<[PolicyScope, string]> = apis.map((a) => [api(a), policy(include('correlation'))]);
    users.push([api('evil_<b>@team'), policy(include('correlation'))]);
    const desired = state([[frag('correlation'), fragment(HEADER2)], ...users]);
    const live = state([[frag('correlation'), fragment(HEADER)], ...users]);
    const plan = computePlan({ state: desired }, { state: live }, { source });

    const text = renderText(plan);
    const first10 = apis.slice(0, 10).map((a) => `apis/${a}/policies/policy`);
    expect(text).toContain(`\`correlation\` is included by 14 policies: ${first10.join(', ')} and 4 more\n`);

    const md = renderMarkdown(plan);
    const section = md.slice(md.indexOf('<details><summary><code>correlation</code> is included by 14 policies</summary>'));
    expect(section.length).toBeLessThan(md.length);
    const list = section.slice(0, section.indexOf('</details>'));
    for (const a of apis) expect(list).toContain(`- \`apis/${a}/policies/policy\`\n`);
    // A name from the tree cannot mention anyone or break the HTML: it is a code span.
    expect(list).toContain('- `apis/evil_<b>@team/policies/policy`');

    const json = JSON.parse(renderJson(plan));
    expect(json.changes.find((c: { address: string }) => c.address === 'policyFragments/correlation').impact).toHaveLength(14);
    expect(verifyPlan(json).reasons).toEqual([]);
  });
});
