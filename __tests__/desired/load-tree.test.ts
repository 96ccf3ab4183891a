import { join } from 'node:path';
import { loadPolicyTree } from '../../src/desired/load-tree.js';
import { parsePolicyDocument } from '../../src/policy-xml/index.js';
import { makeTree, policy } from '../helpers/tree.js';

const addresses = async (root: string) => [...(await loadPolicyTree(root)).state.resources.values()].map((r) => r.address).sort();

describe('loading a policies tree in the APIOps layout', () => {
  it('gives every policy the ARM address of its scope', async () => {
    const root = makeTree({
      'policy.xml': policy(),
      'apis/echo/policy.xml': policy(),
      'apis/echo;rev=2/policy.xml': policy(),
      'apis/echo/operations/get-item/policy.xml': policy(),
      'products/starter/policy.xml': policy(),
      'policy fragments/auth/policy.xml': '<fragment><set-header name="a" exists-action="override"><value>1</value></set-header></fragment>',
      'policyFragments/cors/policy.xml': '<fragment><base /></fragment>',
      'workspaces/team-a/policy.xml': policy(),
      'workspaces/team-a/apis/inner/policy.xml': policy(),
      'workspaces/team-a/policy fragments/ws-frag/policy.xml': '<fragment />',
    });
    expect(await addresses(root)).toEqual([
      'apis/echo/operations/get-item/policies/policy',
      'apis/echo/policies/policy',
      'apis/echo;rev=2/policies/policy',
      'policies/policy',
      'policyFragments/auth',
      'policyFragments/cors',
      'products/starter/policies/policy',
      'workspaces/team-a/apis/inner/policies/policy',
      'workspaces/team-a/policies/policy',
      'workspaces/team-a/policyFragments/ws-frag',
    ]);
  });

  it('ignores the other files APIOps keeps beside policies', async () => {
    const root = makeTree({
      'apis/echo/policy.xml': policy(),
      'apis/echo/apiInformation.json': '{"properties":{}}',
      'apis/echo/specification.yaml': 'openapi: 3.0.1',
      'named values/secret/namedValueInformation.json': '{}',
      'backends/b/backendInformation.json': '{}',
    });
    const tree = await loadPolicyTree(root);
    expect(tree.diagnostics).toEqual([]);
    expect(tree.state.resources.size).toBe(1);
  });

  it('reads a fragment description from policyFragmentInformation.json', async () => {
    const root = makeTree({
      'policy fragments/auth/policy.xml': '<fragment />',
      'policy fragments/auth/policyFragmentInformation.json': '{"properties":{"description":"Adds auth"}}',
    });
    const tree = await loadPolicyTree(root);
    expect(tree.state.resources.get('policyfragments/auth')?.description).toBe('Adds auth');
  });

  it('rejects names ARM would reject, naming the path', async () => {
    const root = makeTree({
      'apis/bad*name/policy.xml': policy(),
      'policy fragments/has.dot/policy.xml': '<fragment />',
      'apis/echo;rev=x/policy.xml': policy(),
      [`apis/echo/operations/${'o'.repeat(81)}/policy.xml`]: policy(),
    });
    const tree = await loadPolicyTree(root, { label: 'policies' });
    expect(tree.state.resources.size).toBe(0);
    const messages = tree.diagnostics.map((d) => `${d.file}: ${d.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^policies\/apis\/bad\*name\/policy\.xml: API id "bad\*name" may not contain/),
        expect.stringMatching(/^policies\/policy fragments\/has\.dot\/policy\.xml: policy fragment id "has\.dot"/),
        expect.stringMatching(/rev=x.*must be ";rev=" followed by a number/),
        expect.stringMatching(/operation id .* must be 1 to 80 characters/),
      ]),
    );
    expect(tree.diagnostics.every((d) => d.severity === 'error')).toBe(true);
  });

  it('treats folders that differ only in letter case as the same resource', async () => {
    const root = makeTree({ 'apis/Echo/policy.xml': policy(), 'apis/echo/policy.xml': policy() });
    const tree = await loadPolicyTree(root);
    expect(tree.state.resources.size).toBe(1);
    expect(tree.diagnostics).toHaveLength(1);
    expect(tree.diagnostics[0]!.message).toMatch(/already defines apis\/echo\/policies\/policy/i);
  });

  it('reports parse errors with file, line and column and keeps loading the rest', async () => {
    const root = makeTree({
      'apis/ok/policy.xml': policy(),
      'apis/broken/policy.xml': '<policies>\n  <inbound>\n    <base />\n  </outbound>\n</policies>\n',
    });
    const tree = await loadPolicyTree(root);
    expect(tree.state.resources.size).toBe(1);
    expect(tree.diagnostics).toEqual([expect.objectContaining({ severity: 'error', rule: 'parse', file: join(root, 'apis/broken/policy.xml'), line: 4, column: 3 })]);
  });

  it('requires <fragment> for fragments and <policies> elsewhere', async () => {
    const root = makeTree({ 'apis/a/policy.xml': '<fragment />', 'policy fragments/f/policy.xml': policy() });
    const messages = (await loadPolicyTree(root)).diagnostics.map((d) => d.message);
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/must have a <policies> root/), expect.stringMatching(/must have a <fragment> root/)]));
  });

  it('warns about a policy.xml the layout does not place', async () => {
    const root = makeTree({ 'apis/echo/extra/policy.xml': policy() });
    const tree = await loadPolicyTree(root);
    expect(tree.diagnostics).toEqual([expect.objectContaining({ severity: 'warning', message: expect.stringMatching(/would never deploy/) })]);
  });

  it('rejects binary files with a clear message', async () => {
    const root = makeTree({ 'apis/bin/policy.xml': Buffer.from([0xff, 0xfe, 0x00, 0x3c, 0x00, 0x70]) });
    const [d] = (await loadPolicyTree(root)).diagnostics;
    expect(d).toEqual(expect.objectContaining({ severity: 'error', line: 1 }));
    expect(d!.message).toMatch(/not valid UTF-8|binary/);
  });

  it('fails clearly when the folder does not exist', async () => {
    await expect(loadPolicyTree('/nonexistent/policies')).rejects.toThrow(/policies folder "\/nonexistent\/policies" does not exist/);
  });
});

describe('the documents of a loaded tree', () => {
  test('are parsed from the loaded text when asked for, the same as a full parse, and not kept', async () => {
    const fragment = '<fragment>\n  <set-header name="x-a" exists-action="override">\n    <value>@(context.Request.Headers.GetValueOrDefault("a", "<b>"))</value>\n  </set-header>\n</fragment>\n';
    const root = makeTree({
      'policy.xml': policy('<rate-limit calls="5" renewal-period="60" />'),
      'apis/orders/policy.xml': policy('<set-variable name="v" value="@(context.Request.Body.As<string>() + "&amp;")" />'),
      'policyFragments/common/policy.xml': fragment,
      'apis/broken/policy.xml': '<policies><inbound></policies>',
    });
    const tree = await loadPolicyTree(root);
    expect(tree.diagnostics.map((d) => d.file)).toEqual([join(root, 'apis/broken/policy.xml')]);
    // Only the documents that parsed: the broken one has none.
    expect([...tree.documents].map(([key]) => key).sort()).toEqual([...tree.state.resources.keys()].sort());
    expect(tree.documents.size).toBe(3);
    expect(tree.documents.get('apis/broken/policies/policy')).toBeUndefined();
    for (const [key, doc] of tree.documents) {
      const r = tree.state.resources.get(key)!;
      const full = parsePolicyDocument(r.xml, { file: r.file!, expect: r.scope.kind === 'fragment' ? 'fragment' : 'policies' });
      expect(doc).toEqual(full);
      expect(doc.file).toBe(r.file);
      // Made anew each time: nothing holds on to a parsed tree.
      expect(tree.documents.get(key)).not.toBe(doc);
    }
  });
});
