/**
 * Issue 16: `effective` composes the policy the gateway runs, level by level, as APIM does.
 * Expected XML is written by hand from the rules (base replaced, no base drops, fragments inlined).
 */
import { EffectiveError, effectivePolicy, parseEffectiveAddress } from '../../src/plan/effective.js';
import { parsePolicyDocument, type PolicyDocument } from '../../src/policy-xml/index.js';

function lookupOf(files: Record<string, string>) {
  const docs = new Map<string, PolicyDocument>();
  for (const [address, xml] of Object.entries(files)) docs.set(address.toLowerCase(), parsePolicyDocument(xml, { file: address }));
  return (address: string) => docs.get(address.toLowerCase());
}

describe('effective policy', () => {
  it('replaces <base /> by the enclosing levels, drops them where a level has no <base />, inlines fragments recursively with their origin', () => {
    const lookup = lookupOf({
      'policies/policy': `<policies><inbound><cors /><set-variable name="g" value="1" /></inbound><backend><forward-request /></backend><outbound><set-header name="o" exists-action="delete" /></outbound></policies>`,
      'apis/a/policies/policy': `<policies><inbound><base /><include-fragment fragment-id="f" /><set-variable name="a" value="1" /></inbound><backend><base /></backend><outbound><set-variable name="a-out" value="1" /></outbound><on-error><base /></on-error></policies>`,
      'apis/a/operations/o/policies/policy': `<policies><inbound><set-variable name="op-first" value="1" /><base /></inbound><outbound><base /></outbound></policies>`,
      'policyFragments/f': `<fragment><choose><when condition="@(true)"><include-fragment fragment-id="g" /></when></choose><set-variable name="f" value="1" /></fragment>`,
      'policyFragments/g': `<fragment><set-variable name="g-frag" value="1" /></fragment>`,
    });
    expect(effectivePolicy(parseEffectiveAddress('apis/a/operations/o'), lookup)).toBe(
      `<!-- effective policy, composed from: policies/policy → apis/a/policies/policy → apis/a/operations/o/policies/policy -->
<policies>
    <inbound>
        <!-- from apis/a/operations/o/policies/policy -->
        <set-variable name="op-first" value="1" />
        <!-- from policies/policy -->
        <cors />
        <set-variable name="g" value="1" />
        <!-- from policyFragments/f -->
        <choose>
            <when condition="@(true)">
                <!-- from policyFragments/g -->
                <set-variable name="g-frag" value="1" />
            </when>
        </choose>
        <set-variable name="f" value="1" />
        <!-- from apis/a/policies/policy -->
        <set-variable name="a" value="1" />
    </inbound>
    <backend />
    <outbound>
        <!-- from apis/a/policies/policy -->
        <set-variable name="a-out" value="1" />
    </outbound>
    <on-error />
</policies>
`,
    );
  });

  it('composes a workspace API through its product; a missing level counts as <base /> only', () => {
    const lookup = lookupOf({
      'policies/policy': `<policies><inbound><set-variable name="service" value="1" /></inbound><backend><forward-request /></backend></policies>`,
      'workspaces/w/policies/policy': `<policies><inbound><base /><set-variable name="workspace" value="1" /></inbound><backend><base /></backend></policies>`,
      'workspaces/w/products/p/policies/policy': `<policies><inbound><base /><include-fragment fragment-id="f" /></inbound><backend><base /></backend></policies>`,
      'workspaces/w/policyFragments/f': `<fragment><set-variable name="ws-frag" value="1" /></fragment>`,
    });
    const target = { ...parseEffectiveAddress('workspaces/w/apis/x/policies/policy'), productId: 'p' };
    expect(effectivePolicy(target, lookup)).toBe(
      `<!-- effective policy, composed from: policies/policy → workspaces/w/policies/policy → workspaces/w/products/p/policies/policy → workspaces/w/apis/x/policies/policy (none: <base /> only) -->
<policies>
    <inbound>
        <!-- from policies/policy -->
        <set-variable name="service" value="1" />
        <!-- from workspaces/w/policies/policy -->
        <set-variable name="workspace" value="1" />
        <!-- from workspaces/w/policyFragments/f -->
        <set-variable name="ws-frag" value="1" />
    </inbound>
    <backend>
        <!-- from policies/policy -->
        <forward-request />
    </backend>
    <outbound />
    <on-error />
</policies>
`,
    );
  });

  it('accepts the address forms of an API and an operation, and refuses an address with no API', () => {
    expect(parseEffectiveAddress('apis/orders')).toEqual({ apiId: 'orders' });
    expect(parseEffectiveAddress('apis/orders/policies/policy')).toEqual({ apiId: 'orders' });
    expect(parseEffectiveAddress('apis/orders/operations/send-order')).toEqual({ apiId: 'orders', operationId: 'send-order' });
    expect(parseEffectiveAddress('apis/orders/operations/send-order/policies/policy')).toEqual({ apiId: 'orders', operationId: 'send-order' });
    expect(parseEffectiveAddress('workspaces/w/apis/orders')).toEqual({ apiId: 'orders', workspace: 'w' });
    for (const bad of ['policies/policy', 'products/integration', 'policyFragments/correlation', 'orders', 'apis']) {
      expect(() => parseEffectiveAddress(bad)).toThrow(
        new EffectiveError(
          `"${bad}" names no API: effective composes the policy of an API or an operation; give apis/<api> or apis/<api>/operations/<operation> (under workspaces/<workspace>/ for a workspace's API)`,
        ),
      );
    }
  });

  it('names an unknown fragment and where it was included; refuses a fragment cycle', () => {
    const unknown = lookupOf({ 'apis/a/policies/policy': `<policies>\n<inbound>\n<base />\n<include-fragment fragment-id="nope" />\n</inbound></policies>` });
    expect(() => effectivePolicy({ apiId: 'a' }, unknown)).toThrow(
      'apis/a/policies/policy (line 4) includes fragment "nope", which is not in the tree (policy fragments/nope/policy.xml); add the fragment or correct fragment-id',
    );
    const cycle = lookupOf({
      'apis/a/policies/policy': `<policies><inbound><include-fragment fragment-id="x" /></inbound></policies>`,
      'policyFragments/x': `<fragment><include-fragment fragment-id="y" /></fragment>`,
      'policyFragments/y': `<fragment><include-fragment fragment-id="x" /></fragment>`,
    });
    expect(() => effectivePolicy({ apiId: 'a' }, cycle)).toThrow('fragments include each other: policyFragments/x → policyFragments/y → policyFragments/x');
  });
});
