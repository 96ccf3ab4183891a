/**
 * Issue 16: `apim-policy effective` on the sample tree, through the bundled CLI. The composed
 * send-order policy runs global, then the orders API with the correlation fragment inlined, then
 * the operation's own content, in that order and each marked with its origin.
 */
import { runCli } from '../helpers/run.js';
import { makeTree, policy } from '../helpers/tree.js';

test('effective of send-order: global cors, the fragment inlined where the orders API includes it, then the operation', () => {
  const r = runCli(['effective', '--policies', 'policies', 'apis/orders/operations/send-order']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const at = (s: string) => {
    const i = r.stdout.indexOf(s);
    expect([s, i]).not.toEqual([s, -1]);
    return i;
  };
  const order = [
    at('<!-- from policies/policy -->'),
    at('<cors allow-credentials="true">'),
    at('<!-- from policyFragments/correlation -->'),
    at('<trace source="correlation" severity="verbose">'),
    at('<!-- from apis/orders/policies/policy -->'),
    at('<set-header name="Ocp-Apim-Subscription-Key" exists-action="delete" />'),
    at('<!-- from apis/orders/operations/send-order/policies/policy -->'),
    at('<rewrite-uri template="/orders/messages" copy-unmatched-params="false" />'),
    at('</inbound>'),
  ];
  expect([...order].sort((a, b) => a - b)).toEqual(order);
  expect(r.stdout).not.toContain('include-fragment');
  expect(r.stdout).not.toContain('<base />');
  // The global backend reaches the operation through the API's and the operation's <base />.
  expect(r.stdout).toMatch(/<backend>\s*<!-- from policies\/policy -->\s*<forward-request timeout="60" \/>\s*<\/backend>/);
});

test('effective refuses an address with no API and names an unknown fragment; warns about a misspelt API', () => {
  const noApi = runCli(['effective', '--policies', 'policies', 'products/integration']);
  expect(noApi.code).toBe(2);
  expect(noApi.stderr).toContain('"products/integration" names no API');
  expect(noApi.stdout).toBe('');

  const tree = makeTree({ 'apis/a/policy.xml': policy('<base />\n        <include-fragment fragment-id="missing" />') });
  const unknown = runCli(['effective', '--policies', tree, 'apis/a']);
  expect(unknown.code).toBe(2);
  expect(unknown.stderr).toMatch(/apis\/a\/policies\/policy \(line \d+\) includes fragment "missing", which is not in the tree \(policy fragments\/missing\/policy\.xml\)/);

  const typo = runCli(['effective', '--policies', 'policies', 'apis/ordrs']);
  expect(typo.code).toBe(0);
  expect(typo.stderr).toContain('warning: the tree has no policy for api "ordrs" (apis/ordrs/policy.xml): it counts as <base /> only; did you mean "orders"?');
});
