import { PolicySyntaxError, canonicalize, decodeEntities, parsePolicyDocument } from '../../src/policy-xml/index.js';

describe('entity and character references', () => {
  it('decodes the predefined entities and numeric references', () => {
    expect(decodeEntities('&lt;a&gt; &amp;&amp; &quot;x&quot; &apos;y&apos; &#65;&#x42;&#xA;')).toBe(`<a> && "x" 'y' AB\n`);
  });

  it('leaves a reference to a code point beyond Unicode as written instead of crashing', () => {
    expect(decodeEntities('a&#99999999;b')).toBe('a&#99999999;b');
    const doc = parsePolicyDocument('<policies><inbound><set-variable name="a" value="@(&quot;&#99999999;&quot;)" /></inbound></policies>');
    expect(canonicalize(doc)).toContain('value="@("&#99999999;")"');
  });

  it('rejects such a reference outside an expression with its position', () => {
    const e = (() => {
      try {
        parsePolicyDocument('<policies><inbound a="&#999999999;"/></policies>', { file: 'p.xml' });
      } catch (err) {
        return err as PolicySyntaxError;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(PolicySyntaxError);
    expect([e!.line, e!.column]).toEqual([1, 23]);
    expect(e!.reason).toMatch(/character reference names a character XML does not allow/);
  });
});
