/** Lint rule double-escaped-expression (issue 15): an expression whose C# holds `&quot;` after one decode. */
import { lintTree } from '../../src/lint/index.js';
import { parsePolicyDocument } from '../../src/policy-xml/index.js';

function lint(text: string): string[] {
  const doc = parsePolicyDocument(text, { file: 'apis/a/policy.xml' });
  const resource = { address: 'apis/a/policies/policy', file: 'apis/a/policy.xml', xml: text, scope: { kind: 'api', apiId: 'a' } };
  const tree = { state: { resources: new Map([['apis/a/policies/policy', resource]]) }, diagnostics: [], documents: new Map([['apis/a/policies/policy', doc]]) };
  return lintTree(tree as never)
    .filter((d) => d.rule === 'double-escaped-expression')
    .map((d) => `${d.line} ${d.message}`);
}

test('&amp;quot; in a string of a well-formed file: the six characters &quot;, at its line', () => {
  const found = lint('<policies>\n<inbound>\n<set-body>@("say &amp;quot;hi&amp;quot;")</set-body>\n</inbound>\n</policies>');
  expect(found).toHaveLength(1);
  expect(found[0]).toMatch(/^3 .*the 6 characters "&quot;" in C#, not "\\""; did you mean "&quot;"/);
});

test('escaped once: no warning', () => {
  expect(lint('<policies><inbound><set-body>@(&quot;say &quot; + 1)</set-body></inbound></policies>')).toEqual([]);
});

test('escaped twice in code: warned as C# that does not compile', () => {
  expect(lint('<policies><inbound><set-body>@(x.As&amp;lt;string&amp;gt;())</set-body></inbound></policies>')[0]).toMatch(/escaped twice.*"&lt;"/);
});
