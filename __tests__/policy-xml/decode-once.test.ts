/**
 * Entities decoded exactly once (issue 15): a well-formed document's expressions mean what one XML
 * decode gives; a raw one's are their text as written. Expected values are written by hand from
 * XML's rules, not produced by the code under test.
 */
import { apimWrite, apimXml, canonicalize, fromRawxml, parsePolicyDocument } from '../../src/policy-xml/index.js';

/** The C# of the only expression in `doc`. */
function codeOf(text: string, options: { literalExpressions?: boolean } = {}): string {
  const doc = parsePolicyDocument(text, options);
  const found: string[] = [];
  const walk = (el: (typeof doc)['root']): void => {
    for (const a of el.attributes) for (const s of a.segments) if (s.expression) found.push(s.code);
    for (const c of el.children) {
      if (c.type === 'element') walk(c);
      else if (c.type === 'cdata') found.push(`CDATA:${c.text}`);
      else if (c.type === 'text') for (const s of c.segments) if (s.expression) found.push(s.code);
    }
  };
  walk(doc.root);
  return found[0]!;
}
const inText = (e: string) => `<policies><inbound><set-body>${e}</set-body></inbound></policies>`;
const inAttr = (e: string, q = '"') => `<policies><inbound><set-variable name="v" value=${q}${e}${q} /></inbound></policies>`;

describe('one XML decode for a well-formed document', () => {
  it.each([
    ['&amp; in a string, element text', inText('@("Tom &amp; Jerry")'), '@("Tom & Jerry")'],
    ['&amp;amp; stays &amp; in C#', inText('@("Tom &amp;amp; Jerry")'), '@("Tom &amp; Jerry")'],
    ['&#97; is a', inText('@("&#97;")'), '@("a")'],
    ['&#x61; is a', inText('@("&#x61;")'), '@("a")'],
    ['&amp;#97; is five characters', inText('@("&amp;#97;")'), '@("&#97;")'],
    ['attribute, escaped quotes', inAttr('@(&quot;Tom &amp;amp; Jerry&quot;)'), '@("Tom &amp; Jerry")'],
    ['attribute in single quotes, raw quotes', inAttr('@("a &amp; b")', "'"), '@("a & b")'],
    ['&amp;quot; inside a string is six characters', inAttr("@('x' + &quot;say &amp;quot;hi&amp;quot;&quot;)"), '@(\'x\' + "say &quot;hi&quot;")'],
  ])('%s', (_what, text, code) => {
    expect(parsePolicyDocument(text).wellFormed).toBe(true);
    expect(codeOf(text)).toBe(code);
  });

  it('CDATA content is taken as written (XML does not decode it)', () => {
    expect(codeOf(inText('<![CDATA[@("a &amp; b")]]>'))).toBe('CDATA:@("a &amp; b")');
  });

  it('@("Tom &amp;amp; Jerry") and @("Tom &amp; Jerry") are different programs', () => {
    expect(canonicalize(parsePolicyDocument(inText('@("Tom &amp;amp; Jerry")')))).not.toBe(canonicalize(parsePolicyDocument(inText('@("Tom &amp; Jerry")'))));
  });
});

describe('a raw (not well-formed) document is taken literally', () => {
  it.each([
    ['raw quote in a quoted attribute', inAttr('@("a" + "&amp;")'), '@("a" + "&amp;")'],
    ['raw < in text', inText('@(1 < 2 ? "&#97;" : "b")'), '@(1 < 2 ? "&#97;" : "b")'],
    ['raw && in an attribute', inAttr('@(true && "&amp;amp;" != null)'), '@(true && "&amp;amp;" != null)'],
  ])('%s', (_what, text, code) => {
    expect(parsePolicyDocument(text).wellFormed).toBe(false);
    expect(codeOf(text)).toBe(code);
  });

  it('one raw expression makes the whole document raw, its escaped ones included', () => {
    const text = `<policies><inbound><set-variable name="a" value="@("x")" /><set-body>@("&amp;")</set-body></inbound></policies>`;
    const doc = parsePolicyDocument(text);
    expect(doc.wellFormed).toBe(false);
    expect(canonicalize(doc)).toContain('<set-body>@("&amp;")</set-body>');
  });
});

describe('C# that cannot compile: escaped twice as a whole', () => {
  it('&quot; standing in code (not in a string) after one decode is read as one more decode', () => {
    expect(codeOf(inAttr('@(context.Variables.GetValueOrDefault(&amp;quot;x&amp;quot;))'))).toBe('@(context.Variables.GetValueOrDefault("x"))');
    expect(codeOf(inText('@(context.Request.Body.As&amp;lt;string&amp;gt;())'))).toBe('@(context.Request.Body.As<string>())');
  });
  it('escaping is done to whole documents: one expression escaped twice in code makes every expression of its document decode once more, except &#NN; for a letter', () => {
    const text = `<policies><inbound><set-variable name="t" value="@(context.Request.Body.As&amp;lt;JObject&amp;gt;())" /><set-url>@($"https://x/?a=1&amp;amp;b=2")</set-url><set-body>@("&amp;#97;")</set-body></inbound></policies>`;
    const codes: string[] = [];
    const walk = (el: ReturnType<typeof parsePolicyDocument>['root']): void => {
      for (const a of el.attributes) for (const seg of a.segments) if (seg.expression) codes.push(seg.code);
      for (const c of el.children)
        if (c.type === 'element') walk(c);
        else if (c.type === 'text') for (const seg of c.segments) if (seg.expression) codes.push(seg.code);
    };
    walk(parsePolicyDocument(text).root);
    expect(codes).toEqual(['@(context.Request.Body.As<JObject>())', '@($"https://x/?a=1&b=2")', '@("&#97;")']);
    // The same string in a document with no sign of double escaping keeps its one decode.
    expect(codeOf(inText('@($"https://x/?a=1&amp;amp;b=2")'))).toBe('@($"https://x/?a=1&amp;b=2")');
  });
  it('but a letter written as &#73; in code is not an escape: kept as written', () => {
    expect(codeOf(inText('@((&amp;#73;Response)x)'))).toBe('@((&#73;Response)x)');
  });
});

describe('what a write sends', () => {
  it('a raw document whose C# has no reference goes as written, rawxml', () => {
    const text = inAttr('@("a" + "b")');
    expect(apimWrite(parsePolicyDocument(text), text)).toEqual({ value: text, format: 'rawxml' });
  });
  it('anything else goes as xml that decodes once to exactly its C#', () => {
    for (const text of [inText('@("Tom &amp; Jerry")'), inText('@("Tom &amp;amp; Jerry")'), inAttr('@("x" + "&amp;")')]) {
      const doc = parsePolicyDocument(text);
      const sent = apimWrite(doc, text);
      expect(sent.format).toBe('xml');
      const back = parsePolicyDocument(sent.value);
      expect(back.wellFormed).toBe(true);
      expect(canonicalize(back)).toBe(canonicalize(doc));
    }
    expect(apimXml(parsePolicyDocument(inText('@("Tom &amp;amp; Jerry")')))).toContain('@(&quot;Tom &amp;amp; Jerry&quot;)');
  });
  it('a rawxml answer that happens to be well-formed is not decoded again', () => {
    const answer = inText('@("Tom &amp; Jerry")'); // rawxml: the C# holds &amp;
    expect(codeOf(answer, { literalExpressions: true })).toBe('@("Tom &amp; Jerry")');
    expect(codeOf(fromRawxml(answer, 'policies'))).toBe('@("Tom &amp; Jerry")');
    const plain = inText('@("Tom")');
    expect(fromRawxml(plain, 'policies')).toBe(plain);
  });
});
