/**
 * canonicalize: two spellings of one policy must compare equal, two different policies must not.
 */
import { canonicalize, parsePolicyDocument, type ParseOptions } from '../../src/policy-xml/index.js';

function canon(text: string, options?: ParseOptions): string {
  return canonicalize(parsePolicyDocument(text, options));
}

function expectSame(a: string, b: string, options?: ParseOptions): void {
  expect(canon(b, options)).toBe(canon(a, options));
}

function expectDifferent(a: string, b: string, options?: ParseOptions): void {
  expect(canon(b, options)).not.toBe(canon(a, options));
}

const BASE = `<policies>
    <inbound>
        <base />
        <set-header name="X-Env" exists-action="override">
            <value>prod</value>
        </set-header>
        <set-variable name="isAdmin" value="@(context.User.Groups.Any(g => g.Name == &quot;admins&quot;))" />
        <choose>
            <when condition="@(context.Request.Method == &quot;POST&quot;)">
                <set-backend-service base-url="https://api.example.com/v1" />
            </when>
        </choose>
    </inbound>
    <backend>
        <forward-request />
    </backend>
    <outbound>
        <base />
    </outbound>
    <on-error>
        <base />
    </on-error>
</policies>
`;

describe('canonicalize: equal spellings', () => {
  it('is the same for the same text parsed twice', () => {
    expectSame(BASE, BASE);
  });

  it('ignores attribute order', () => {
    expectSame(
      '<policies><inbound><set-header name="a" exists-action="override"><value>1</value></set-header></inbound></policies>',
      '<policies><inbound><set-header exists-action="override" name="a"><value>1</value></set-header></inbound></policies>',
    );
  });

  it('ignores whitespace between elements', () => {
    expectSame(
      '<policies><inbound><base/><set-status code="200"/></inbound><outbound/></policies>',
      '<policies>\n\n   <inbound>\n <base/>\n\n\t\t<set-status code="200"/>  \n</inbound>   <outbound/>\n</policies>\n\n',
    );
  });

  it('ignores single vs double quotes around attribute values', () => {
    expectSame(`<policies><inbound><set-status code='200' reason='OK' /></inbound></policies>`, `<policies><inbound><set-status code="200" reason="OK" /></inbound></policies>`);
  });

  it('ignores CRLF vs LF line endings', () => {
    expectSame(BASE, BASE.replace(/\n/g, '\r\n'));
  });

  it('ignores CRLF line endings inside a multi-line expression', () => {
    const lf = '<policies><inbound><set-variable name="v" value="@{\n  var a = 1;\n  return a;\n}" /></inbound></policies>';
    expectSame(lf, lf.replace(/\n/g, '\r\n'));
  });

  it('ignores a UTF-8 BOM', () => {
    expectSame(BASE, `\uFEFF${BASE}`);
  });

  it('ignores <x/> vs <x /> vs <x></x>', () => {
    const a = '<policies><inbound><base/></inbound></policies>';
    const b = '<policies><inbound><base /></inbound></policies>';
    const c = '<policies><inbound><base></base></inbound></policies>';
    expectSame(a, b);
    expectSame(a, c);
  });

  it('ignores tab vs space indentation', () => {
    expectSame(
      BASE,
      BASE.replace(/^( {4})+/gm, (m) => '\t'.repeat(m.length / 4)),
    );
  });

  it('ignores an XML declaration', () => {
    expectSame(BASE, `<?xml version="1.0" encoding="utf-8"?>\n${BASE}`);
  });

  it('ignores comments outside the root element', () => {
    expectSame(BASE, `<!-- owned by team A -->\n${BASE}<!-- generated -->\n`);
  });

  it('ignores an APIM-style re-serialisation combining all of the above', () => {
    const apim =
      '\uFEFF<?xml version="1.0" encoding="utf-8"?>\r\n<!-- exported -->\r\n<policies>\r\n' +
      '\t<inbound>\r\n\t\t<base></base>\r\n' +
      `\t\t<set-header exists-action='override' name='X-Env'>\r\n\t\t\t<value>prod</value>\r\n\t\t</set-header>\r\n` +
      '\t\t<set-variable value="@(context.User.Groups.Any(g => g.Name == "admins"))" name="isAdmin"/>\r\n' +
      '\t\t<choose>\r\n\t\t\t<when condition=\'@(context.Request.Method == "POST")\'>\r\n' +
      '\t\t\t\t<set-backend-service base-url="https://api.example.com/v1"/>\r\n\t\t\t</when>\r\n\t\t</choose>\r\n' +
      '\t</inbound>\r\n\t<backend><forward-request/></backend>\r\n\t<outbound><base/></outbound>\r\n' +
      '\t<on-error><base/></on-error>\r\n</policies>\r\n';
    expectSame(BASE, apim);
  });
});

describe('canonicalize: raw vs XML-escaped expressions', () => {
  it('treats a raw and an escaped expression in an attribute as the same', () => {
    expectSame(
      '<policies><inbound><choose><when condition="@(context.Variables.GetValueOrDefault<string>("x") == "y" && 1 < 2)" /></choose></inbound></policies>',
      '<policies><inbound><choose><when condition="@(context.Variables.GetValueOrDefault&lt;string&gt;(&quot;x&quot;) == &quot;y&quot; &amp;&amp; 1 &lt; 2)" /></choose></inbound></policies>',
    );
  });

  it('treats a raw and an escaped expression in text as the same', () => {
    expectSame(
      '<policies><inbound><set-header name="h"><value>@(context.Request.Body.As<JObject>()["id"] > 3 && true)</value></set-header></inbound></policies>',
      '<policies><inbound><set-header name="h"><value>@(context.Request.Body.As&lt;JObject&gt;()[&quot;id&quot;] &gt; 3 &amp;&amp; true)</value></set-header></inbound></policies>',
    );
  });

  it('treats a raw multi-line block and its &#xA;-escaped spelling as the same', () => {
    expectSame(
      '<policies><inbound><set-variable name="u" value="@{\n// build the url\nreturn &quot;https://x&quot;;\n}" /></inbound></policies>',
      '<policies><inbound><set-variable name="u" value="@{&#xA;// build the url&#xA;return &quot;https://x&quot;;&#xA;}" /></inbound></policies>',
    );
  });

  it('treats &#xD;&#xA; line breaks in an escaped expression as LF', () => {
    expectSame(
      '<policies><inbound><set-variable name="u" value="@{\nreturn 1;\n}" /></inbound></policies>',
      '<policies><inbound><set-variable name="u" value="@{&#xD;&#xA;return 1;&#xD;&#xA;}" /></inbound></policies>',
    );
  });

  it('treats a single-quoted attribute holding raw quotes like the escaped spelling', () => {
    expectSame(
      `<policies><inbound><set-variable name="v" value='@((string)context.Variables["a"] + "b")' /></inbound></policies>`,
      '<policies><inbound><set-variable name="v" value="@((string)context.Variables[&quot;a&quot;] + &quot;b&quot;)" /></inbound></policies>',
    );
  });

  it('treats escaped and raw literal text the same (entity spelling only)', () => {
    expectSame(
      '<policies><inbound><set-header name="h"><value>a &amp; b &gt; c</value></set-header></inbound></policies>',
      '<policies><inbound><set-header name="h"><value>a &#38; b &#x3E; c</value></set-header></inbound></policies>',
    );
  });
});

describe('canonicalize: keeps what matters', () => {
  it('differs when one character of an expression changes', () => {
    expectDifferent(
      '<policies><inbound><set-variable name="v" value="@(context.Request.Headers.GetValueOrDefault(&quot;a&quot;))" /></inbound></policies>',
      '<policies><inbound><set-variable name="v" value="@(context.Request.Headers.GetValueOrDefault(&quot;b&quot;))" /></inbound></policies>',
    );
  });

  it('differs when whitespace inside an expression changes', () => {
    expectDifferent(
      '<policies><inbound><set-variable name="v" value="@(&quot;a b&quot;)" /></inbound></policies>',
      '<policies><inbound><set-variable name="v" value="@(&quot;a  b&quot;)" /></inbound></policies>',
    );
  });

  it('differs when an attribute value changes', () => {
    expectDifferent(BASE, BASE.replace('https://api.example.com/v1', 'https://api.example.com/v2'));
  });

  it('differs when an attribute is renamed or added', () => {
    expectDifferent(BASE, BASE.replace('<set-header name="X-Env"', '<set-header id="X-Env"'));
    expectDifferent(BASE, BASE.replace('<forward-request />', '<forward-request timeout="30" />'));
  });

  it('differs when whitespace in <value> text changes ("a b" vs "a  b")', () => {
    expectDifferent(
      '<policies><inbound><set-header name="h"><value>a b</value></set-header></inbound></policies>',
      '<policies><inbound><set-header name="h"><value>a  b</value></set-header></inbound></policies>',
    );
  });

  it('differs when leading whitespace in <value> text changes', () => {
    expectDifferent(
      '<policies><inbound><set-header name="h"><value>ab</value></set-header></inbound></policies>',
      '<policies><inbound><set-header name="h"><value> ab</value></set-header></inbound></policies>',
    );
  });

  it('differs when whitespace inside <set-body> changes (it is all payload)', () => {
    expectDifferent('<policies><inbound><set-body>{ "a": 1 }</set-body></inbound></policies>', '<policies><inbound><set-body>{ "a":  1 }</set-body></inbound></policies>');
    expectDifferent('<policies><inbound><set-body>{"a":1}</set-body></inbound></policies>', '<policies><inbound><set-body>\n{"a":1}\n</set-body></inbound></policies>');
  });

  it('differs when indentation of XML inside <set-body> changes', () => {
    expectDifferent(
      '<policies><inbound><set-body><soap:Envelope xmlns:soap="urn:s">\n  <soap:Body />\n</soap:Envelope></set-body></inbound></policies>',
      '<policies><inbound><set-body><soap:Envelope xmlns:soap="urn:s">\n    <soap:Body />\n</soap:Envelope></set-body></inbound></policies>',
    );
  });

  it('keeps the newlines of a multi-line @{ } in an attribute (the attribute-newline trap)', () => {
    const multiLine = '<policies><inbound><set-variable name="v" value="@{\n// pick the tenant\nreturn &quot;t1&quot;;\n}" /></inbound></policies>';
    const collapsed = '<policies><inbound><set-variable name="v" value="@{ // pick the tenant return &quot;t1&quot;; }" /></inbound></policies>';
    // Joined onto one line, the comment swallows the code (and the closing brace): not the same policy.
    expect(() => canon(collapsed)).toThrow();
    const form = canon(multiLine);
    expect(form).toContain('@{\n// pick the tenant\nreturn "t1";\n}');
    expect(form).not.toContain('// pick the tenant return');
  });

  it('keeps expression newlines different from spaces when both are valid C#', () => {
    expectDifferent(
      '<policies><inbound><set-variable name="v" value="@{\nreturn 1;\n}" /></inbound></policies>',
      '<policies><inbound><set-variable name="v" value="@{ return 1; }" /></inbound></policies>',
    );
  });

  it('does collapse a raw newline in a plain (non-expression) attribute value, as XML does', () => {
    expectSame('<policies><inbound><set-variable name="v" value="a\nb" /></inbound></policies>', '<policies><inbound><set-variable name="v" value="a b" /></inbound></policies>');
    expectDifferent('<policies><inbound><set-variable name="v" value="a&#xA;b" /></inbound></policies>', '<policies><inbound><set-variable name="v" value="a b" /></inbound></policies>');
  });

  it('differs when element order changes', () => {
    expectDifferent('<policies><inbound><base /><set-status code="200" /></inbound></policies>', '<policies><inbound><set-status code="200" /><base /></inbound></policies>');
  });

  it('differs when an element is removed', () => {
    expectDifferent(BASE, BASE.replace('        <base />\n        <set-header', '        <set-header'));
  });

  it('differs when a comment inside the root changes', () => {
    expectDifferent('<policies><inbound><!-- rate limit: 10 --><base /></inbound></policies>', '<policies><inbound><!-- rate limit: 20 --><base /></inbound></policies>');
  });

  it('differs when a comment inside the root is added', () => {
    expectDifferent('<policies><inbound><base /></inbound></policies>', '<policies><inbound><!-- note --><base /></inbound></policies>');
  });

  it('differs between <policies> and <fragment> roots with the same content', () => {
    expectDifferent('<policies><base /></policies>', '<fragment><base /></fragment>');
  });
});

describe('canonicalize: shape of the canonical form', () => {
  it('sorts attributes, uses 4-space indentation, LF and a trailing newline', () => {
    const form = canon('<policies><inbound><set-header name="h" exists-action="override"><value>v</value></set-header></inbound></policies>');
    expect(form).toBe(
      ['<policies>', '    <inbound>', '        <set-header exists-action="override" name="h">', '            <value>v</value>', '        </set-header>', '    </inbound>', '</policies>', ''].join(
        '\n',
      ),
    );
  });

  it('prints expressions unescaped, the way the gateway runs them', () => {
    const form = canon('<policies><inbound><when condition="@(a &lt; b &amp;&amp; c == &quot;x&quot;)" /></inbound></policies>');
    expect(form).toContain('condition="@(a < b && c == "x")"');
  });
});

describe('canonicalize: fragments', () => {
  const inner = `<set-header name="X-Trace" exists-action="override">
    <value>@(context.RequestId.ToString())</value>
</set-header>
<!-- shared -->
<base />
`;

  it('equals the wrapped <fragment> form when parsed from the inner content only', () => {
    expectSame(`<fragment>\n${inner}</fragment>`, inner, { expect: 'fragment' });
  });

  it('marks the unwrapped document as such and still has a <fragment> root', () => {
    const doc = parsePolicyDocument(inner, { expect: 'fragment' });
    expect(doc.unwrapped).toBe(true);
    expect(doc.kind).toBe('fragment');
    expect(doc.root.name).toBe('fragment');
    const wrapped = parsePolicyDocument(`<fragment>${inner}</fragment>`, { expect: 'fragment' });
    expect(wrapped.unwrapped).toBe(false);
  });

  it('equals the wrapped form for inner content with CRLF, a BOM and escaped expressions', () => {
    const raw = '<fragment><set-variable name="a" value="@(context.Variables["x"])" /></fragment>';
    const returned = '\uFEFF<set-variable value="@(context.Variables[&quot;x&quot;])" name="a" />\r\n';
    expectSame(raw, returned, { expect: 'fragment' });
  });

  it('equals the wrapped form when the inner content starts with an XML declaration', () => {
    expectSame('<fragment><base /></fragment>', '<?xml version="1.0" encoding="utf-8"?>\r\n<base />', { expect: 'fragment' });
  });

  it('equals the wrapped form for a single child element', () => {
    expectSame('<fragment><base /></fragment>', '<base/>', { expect: 'fragment' });
  });

  it('still sees a change in the unwrapped content', () => {
    expectDifferent('<fragment><set-status code="200" /></fragment>', '<set-status code="201" />', {
      expect: 'fragment',
    });
  });
});
