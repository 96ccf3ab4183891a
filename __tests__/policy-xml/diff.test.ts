/**
 * diffCanonical: the unified diff a reviewer reads in a plan — only changed lines marked, with
 * counts of added and removed lines.
 */
import { MAX_EDIT_LINES, canonicalize, diffCanonical, parsePolicyDocument } from '../../src/policy-xml/index.js';

const LINES = [
  '<policies>',
  '    <inbound>',
  '        <a />',
  '        <b />',
  '        <c />',
  '        <d />',
  '        <e />',
  '        <f />',
  '        <g />',
  '        <h />',
  '        <i />',
  '        <j />',
  '    </inbound>',
  '</policies>',
];
const BEFORE = LINES.join('\n') + '\n';

/** The hunk lines (after the ---/+++ header) that start with the given marker. */
function marked(patch: string, marker: '+' | '-'): string[] {
  return patch
    .split('\n')
    .slice(2)
    .filter((l) => l.startsWith(marker))
    .map((l) => l.slice(1));
}

describe('diffCanonical', () => {
  it('reports nothing for identical text', () => {
    const d = diffCanonical(BEFORE, BEFORE, 'live', 'desired');
    expect(d.added).toBe(0);
    expect(d.removed).toBe(0);
    expect(d.patch).not.toContain('@@');
    expect(marked(d.patch, '+')).toEqual([]);
    expect(marked(d.patch, '-')).toEqual([]);
  });

  it('starts with the two labels and no Index/=== preamble', () => {
    const after = BEFORE.replace('<e />', '<e x="1" />');
    const d = diffCanonical(BEFORE, after, 'live: apis/orders', 'desired: apis/orders/policy.xml');
    const lines = d.patch.split('\n');
    expect(lines[0]).toMatch(/^--- live: apis\/orders\b/);
    expect(lines[1]).toMatch(/^\+\+\+ desired: apis\/orders\/policy\.xml\b/);
    expect(d.patch).not.toContain('Index:');
    expect(d.patch).not.toContain('====');
  });

  it('marks only the changed line, once with - and once with +', () => {
    const after = BEFORE.replace('<e />', '<e x="1" />');
    const d = diffCanonical(BEFORE, after, 'live', 'desired');
    expect(marked(d.patch, '-')).toEqual(['        <e />']);
    expect(marked(d.patch, '+')).toEqual(['        <e x="1" />']);
    expect(d.added).toBe(1);
    expect(d.removed).toBe(1);
  });

  it('shows three lines of context around a change and leaves distant lines out', () => {
    const after = BEFORE.replace('<f />', '<f changed="yes" />');
    const d = diffCanonical(BEFORE, after, 'live', 'desired');
    const context = d.patch
      .split('\n')
      .filter((l) => l.startsWith(' '))
      .map((l) => l.slice(1));
    expect(context).toEqual(['        <c />', '        <d />', '        <e />', '        <g />', '        <h />', '        <i />']);
    expect(d.patch).not.toContain('<a />');
    expect(d.patch).not.toContain('<policies>');
    expect(d.patch).toContain('@@ -5,7 +5,7 @@');
  });

  it('counts pure additions', () => {
    const after = BEFORE.replace('        <j />\n', '        <j />\n        <k />\n        <l />\n');
    const d = diffCanonical(BEFORE, after, 'live', 'desired');
    expect(marked(d.patch, '+')).toEqual(['        <k />', '        <l />']);
    expect(marked(d.patch, '-')).toEqual([]);
    expect(d.added).toBe(2);
    expect(d.removed).toBe(0);
  });

  it('counts pure removals', () => {
    const after = BEFORE.replace('        <b />\n        <c />\n        <d />\n', '');
    const d = diffCanonical(BEFORE, after, 'live', 'desired');
    expect(marked(d.patch, '-')).toEqual(['        <b />', '        <c />', '        <d />']);
    expect(d.added).toBe(0);
    expect(d.removed).toBe(3);
  });

  it('counts every line when the policy is new', () => {
    const d = diffCanonical('', BEFORE, 'live', 'desired');
    expect(d.added).toBe(LINES.length);
    expect(d.removed).toBe(0);
    expect(marked(d.patch, '+')).toEqual(LINES);
  });

  it('counts every line when the policy is removed', () => {
    const d = diffCanonical(BEFORE, '', 'live', 'desired');
    expect(d.added).toBe(0);
    expect(d.removed).toBe(LINES.length);
  });

  it('gives two hunks for two distant changes', () => {
    const after = BEFORE.replace('<a />', '<a x="1" />').replace('<j />', '<j y="2" />');
    const d = diffCanonical(BEFORE, after, 'live', 'desired');
    expect(d.patch.split('\n').filter((l) => l.startsWith('@@'))).toHaveLength(2);
    expect(d.added).toBe(2);
    expect(d.removed).toBe(2);
  });

  it('ends the patch with exactly one newline', () => {
    const after = BEFORE.replace('<e />', '<e x="1" />');
    const d = diffCanonical(BEFORE, after, 'live', 'desired');
    expect(d.patch.endsWith('\n')).toBe(true);
    expect(d.patch.endsWith('\n\n')).toBe(false);
  });

  it('counts changed payload lines that themselves start with "-- " or "++ "', () => {
    const before = '<set-body>\n-- old comment\nSELECT 1\n</set-body>\n';
    const after = '<set-body>\n++ new comment\nSELECT 1\n</set-body>\n';
    const d = diffCanonical(before, after, 'live', 'desired');
    expect(marked(d.patch, '-')).toEqual(['-- old comment']);
    expect(marked(d.patch, '+')).toEqual(['++ new comment']);
    expect(d.removed).toBe(1);
    expect(d.added).toBe(1);
  });

  it('shows no change between two spellings of one policy after canonicalize', () => {
    const a = canonicalize(parsePolicyDocument('<policies><inbound><set-header name="h" exists-action="override"><value>@(&quot;x&quot;)</value></set-header></inbound></policies>'));
    const b = canonicalize(
      parsePolicyDocument(`\uFEFF<policies>\r\n\t<inbound>\r\n\t\t<set-header exists-action='override' name='h'>\r\n\t\t\t<value>@("x")</value>\r\n\t\t</set-header>\r\n\t</inbound>\r\n</policies>`),
    );
    const d = diffCanonical(a, b, 'live', 'desired');
    expect([d.added, d.removed]).toEqual([0, 0]);
  });

  it('shows exactly the changed expression line between two canonical forms', () => {
    const a = canonicalize(parsePolicyDocument('<policies><inbound><base /><set-variable name="v" value="@(&quot;a&quot;)" /><set-status code="200" /></inbound></policies>'));
    const b = canonicalize(parsePolicyDocument('<policies><inbound><base /><set-variable name="v" value=\'@("b")\' /><set-status code="200" /></inbound></policies>'));
    const d = diffCanonical(a, b, 'live', 'desired');
    expect(marked(d.patch, '-')).toEqual(['        <set-variable name="v" value="@("a")" />']);
    expect(marked(d.patch, '+')).toEqual(['        <set-variable name="v" value="@("b")" />']);
    expect([d.added, d.removed]).toEqual([1, 1]);
  });

  it('shows a multi-line expression change as the one changed line inside it', () => {
    const a = canonicalize(parsePolicyDocument('<policies><inbound><set-variable name="v" value="@{\nvar x = 1;\nreturn x;\n}" /></inbound></policies>'));
    const b = canonicalize(parsePolicyDocument('<policies><inbound><set-variable name="v" value="@{&#xA;var x = 2;&#xA;return x;&#xA;}" /></inbound></policies>'));
    const d = diffCanonical(a, b, 'live', 'desired');
    expect(marked(d.patch, '-')).toEqual(['var x = 1;']);
    expect(marked(d.patch, '+')).toEqual(['var x = 2;']);
  });
});

describe('diffCanonical of very different documents', () => {
  const doc = (n: number, line: (i: number) => string) => Array.from({ length: n }, (_, i) => line(i)).join('\n') + '\n';

  it('says "content replaced" with both canonical line counts when more than MAX_EDIT_LINES lines differ', () => {
    const d = diffCanonical(
      doc(20000, (i) => `a${i}`),
      doc(19998, (i) => `b${i}`),
      'live/apis/big',
      'desired/apis/big',
    );
    expect(d.replaced).toEqual({ before: 20000, after: 19998 });
    expect(d.patch).toBe(`--- live/apis/big\n+++ desired/apis/big\ncontent replaced: 20000 lines → 19998 lines (more than ${MAX_EDIT_LINES} lines differ; not diffed line by line)\n`);
    expect([d.added, d.removed]).toEqual([19998, 20000]);
  });

  it('diffs line by line up to MAX_EDIT_LINES changed lines, and not one more', () => {
    const before = doc(5000, (i) => `line ${i}`);
    const changedUpTo = (k: number) => doc(5000, (i) => (i < k ? `changed ${i}` : `line ${i}`));
    const atCap = diffCanonical(before, changedUpTo(MAX_EDIT_LINES / 2), 'live', 'desired');
    expect(atCap.replaced).toBeUndefined();
    expect([atCap.added, atCap.removed]).toEqual([MAX_EDIT_LINES / 2, MAX_EDIT_LINES / 2]);
    const past = diffCanonical(before, changedUpTo(MAX_EDIT_LINES / 2 + 1), 'live', 'desired');
    expect(past.replaced).toEqual({ before: 5000, after: 5000 });
  });

  it('shows a new or removed 20,000-line document in full: every line added or removed', () => {
    const big = doc(20000, (i) => `n${i}`);
    const created = diffCanonical('', big, 'live', 'desired');
    expect(created.replaced).toBeUndefined();
    expect(created.added).toBe(20000);
    const removed = diffCanonical(big, '', 'live', 'desired');
    expect(removed.replaced).toBeUndefined();
    expect(removed.removed).toBe(20000);
  });
});
