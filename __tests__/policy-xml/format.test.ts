/**
 * formatPolicy (`fmt`): stable LF / 4-space output that keeps every expression and payload exactly
 * as written and means the same as the input.
 */
import { canonicalize, formatPolicy, parsePolicyDocument, type ParseOptions, type XmlElement } from '../../src/policy-xml/index.js';

function findElement(el: XmlElement, name: string): XmlElement | undefined {
  for (const c of el.children) {
    if (c.type !== 'element') continue;
    if (c.name === name) return c;
    const hit = findElement(c, name);
    if (hit) return hit;
  }
  return undefined;
}

function fmt(text: string, options?: ParseOptions): string {
  return formatPolicy(parsePolicyDocument(text, options));
}

const TIDY = `<policies>
    <inbound>
        <base />
        <set-header name="X-Env" exists-action="override">
            <value>prod</value>
        </set-header>
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

/** CRLF, BOM, declaration, tabs, odd spacing, single quotes, mixed raw/escaped expressions, comments. */
const MESSY =
  '\uFEFF<?xml version="1.0" encoding="utf-8"?>\r\n' +
  '<!-- leading comment -->\r\n' +
  '<policies>\r\n' +
  '\t<inbound>\r\n' +
  '\t\t<base/>\r\n' +
  `  <set-variable value='@(context.Request.Headers.GetValueOrDefault("x", "") == "y" && 1 < 2)'   name='flag'></set-variable>\r\n` +
  '      <set-header name="h" exists-action="override"><value>@(&quot;a&quot; + &quot;b&quot;)</value><value>a  b &amp; c</value></set-header>\r\n' +
  '<set-body>  {\r\n   "id": "@(context.RequestId)"\r\n }  </set-body>\r\n' +
  '<choose><when condition="@(context.Variables.GetValueOrDefault&lt;bool&gt;(&quot;flag&quot;))"><!-- inner --><return-response><set-status code="200" reason="OK"/></return-response></when><otherwise /></choose>\r\n' +
  '\t</inbound>\r\n' +
  '  <backend>   <forward-request timeout="30"/>   </backend>\r\n' +
  '</policies>\r\n' +
  '<!-- trailing comment -->\r\n';

const MULTILINE = `<policies>
  <inbound>
    <set-variable name="tenant" value="@{
        // choose the tenant )
        var h = context.Request.Headers.GetValueOrDefault(&quot;X-Tenant&quot;, &quot;&quot;);
        return h == &quot;&quot; ? &quot;default&quot; : h;
    }" />
    <set-variable name="escaped" value="@{&#xA;// note&#xA;return &quot;https://x&quot;;&#xA;}" />
    <set-header name="X-Sum"><value>@{
      var a = new[] { 1, 2 };
      return a.Sum().ToString();
    }</value></set-header>
  </inbound>
</policies>`;

const FRAGMENT_INNER = `<set-header name="X-Trace" exists-action="override"><value>@(context.RequestId.ToString())</value></set-header>
<base/>`;

// Every row has all three entries: jest would take a missing third for a `done` callback.
const FIXTURES: Array<[string, string, ParseOptions]> = [
  ['tidy', TIDY, {}],
  ['messy', MESSY, {}],
  ['multi-line expressions', MULTILINE, {}],
  ['cdata', '<policies><inbound><set-body><![CDATA[<a>@(x)</a>]]></set-body></inbound></policies>', {}],
  ['fragment', `<fragment>${FRAGMENT_INNER}</fragment>`, { expect: 'fragment' }],
  ['unwrapped fragment', FRAGMENT_INNER, { expect: 'fragment' }],
];

describe('formatPolicy: idempotent and equivalent', () => {
  it.each(FIXTURES)('is idempotent on the %s fixture', (_name, text, options) => {
    const once = fmt(text, options);
    const twice = fmt(once, options);
    expect(twice).toBe(once);
  });

  it.each(FIXTURES)('keeps the meaning of the %s fixture (canonically equal)', (_name, text, options) => {
    const before = canonicalize(parsePolicyDocument(text, options));
    const after = canonicalize(parsePolicyDocument(fmt(text, options), options));
    expect(after).toBe(before);
  });

  it('leaves an already tidy document byte-for-byte unchanged', () => {
    expect(fmt(TIDY)).toBe(TIDY);
  });
});

describe('formatPolicy: layout', () => {
  it('uses LF line endings only, even for CRLF input', () => {
    const out = fmt(MESSY);
    expect(out).not.toContain('\r');
    expect(out.endsWith('\n')).toBe(true);
  });

  it('drops a BOM', () => {
    expect(fmt(MESSY).startsWith('\uFEFF')).toBe(false);
  });

  it('indents each level with four spaces and never with tabs', () => {
    const out = fmt('<policies>\n\t<inbound>\n\t\t<choose>\n\t\t\t<when condition="@(true)">\n\t\t\t\t<base/>\n\t\t\t</when>\n\t\t</choose>\n\t</inbound>\n</policies>');
    expect(out).toBe(
      [
        '<policies>',
        '    <inbound>',
        '        <choose>',
        '            <when condition="@(true)">',
        '                <base />',
        '            </when>',
        '        </choose>',
        '    </inbound>',
        '</policies>',
        '',
      ].join('\n'),
    );
  });

  it('writes empty elements as <x /> and uses double quotes', () => {
    const out = fmt(`<policies><inbound><base></base><set-status code='200' reason='OK'/></inbound></policies>`);
    expect(out).toContain('        <base />\n');
    expect(out).toContain('        <set-status code="200" reason="OK" />\n');
  });

  it("keeps the author's attribute order (fmt does not sort)", () => {
    const out = fmt('<policies><inbound><set-header name="h" exists-action="override" /></inbound></policies>');
    expect(out).toContain('<set-header name="h" exists-action="override" />');
  });

  it('keeps comments inside and outside the root', () => {
    const out = fmt(MESSY);
    expect(out.startsWith('<!-- leading comment -->\n<policies>\n')).toBe(true);
    expect(out.endsWith('</policies>\n<!-- trailing comment -->\n')).toBe(true);
    expect(out).toContain('                <!-- inner -->\n');
  });

  it('writes a double quote inside a single-quoted plain value as &quot;', () => {
    const out = fmt(`<policies><inbound><set-header name='say "hi"' /></inbound></policies>`);
    expect(out).toContain('<set-header name="say &quot;hi&quot;" />');
  });
});

describe('formatPolicy: expressions byte-exact', () => {
  it('keeps a raw expression raw (quotes, <, && untouched) even when moved into double quotes', () => {
    const expr = '@(context.Request.Headers.GetValueOrDefault("x", "") == "y" && 1 < 2)';
    const out = fmt(`<policies><inbound><set-variable name="flag" value='${expr}' /></inbound></policies>`);
    expect(out).toContain(`value="${expr}"`);
  });

  it('keeps an escaped expression escaped', () => {
    const expr = '@(context.Variables.GetValueOrDefault&lt;bool&gt;(&quot;flag&quot;) &amp;&amp; true)';
    const out = fmt(`<policies><inbound><choose><when condition="${expr}" /></choose></inbound></policies>`);
    expect(out).toContain(`condition="${expr}"`);
  });

  it('keeps an escaped expression in text escaped', () => {
    const expr = '@(&quot;a&quot; + &quot;b&quot;)';
    expect(fmt(MESSY)).toContain(`<value>${expr}</value>`);
  });

  it('keeps a multi-line raw block with its newlines and inner indentation', () => {
    const out = fmt(MULTILINE);
    const block = MULTILINE.slice(MULTILINE.indexOf('@{\n        // choose'), MULTILINE.indexOf('    }" />') + 5);
    expect(out).toContain(`value="${block}"`);
  });

  it('keeps an &#xA;-escaped block as written', () => {
    expect(fmt(MULTILINE)).toContain('value="@{&#xA;// note&#xA;return &quot;https://x&quot;;&#xA;}"');
  });

  it('keeps a multi-line block in text exactly', () => {
    const block = '@{\n      var a = new[] { 1, 2 };\n      return a.Sum().ToString();\n    }';
    expect(fmt(MULTILINE)).toContain(`<value>${block}</value>`);
  });

  it('turns CRLF inside a raw expression into LF but changes nothing else in it', () => {
    const out = fmt('<policies><inbound><set-variable name="v" value="@{\r\n\treturn  1;\r\n}" /></inbound></policies>');
    expect(out).toContain('value="@{\n\treturn  1;\n}"');
  });
});

describe('formatPolicy: payload and literals', () => {
  it('keeps set-body content exactly, whitespace and all', () => {
    const body = '  {\n   "id": "@(context.RequestId)"\n }  ';
    expect(fmt(MESSY)).toContain(`<set-body>${body}</set-body>`);
  });

  it('keeps raw XML inside set-body with its own indentation', () => {
    const body = '\n<soap:Envelope xmlns:soap="urn:s">\n  <soap:Body>\n\t<x a=\'1\'/>\n  </soap:Body>\n</soap:Envelope>\n';
    const out = fmt(`<policies>\n<inbound>\n<set-body>${body}</set-body>\n</inbound>\n</policies>`);
    // Attribute quotes and empty-element spelling may be normalised, but every whitespace character stays.
    expect(out).toContain('<set-body>\n<soap:Envelope xmlns:soap="urn:s">\n  <soap:Body>\n\t<x a="1" />\n  </soap:Body>\n</soap:Envelope>\n</set-body>');
  });

  it('keeps CDATA sections', () => {
    expect(fmt(FIXTURES[3]![1])).toContain('<set-body><![CDATA[<a>@(x)</a>]]></set-body>');
  });

  it('keeps whitespace inside text values', () => {
    expect(fmt(MESSY)).toContain('<value>a  b &amp; c</value>');
  });

  it('does not turn a literal &#64;( in text into an expression', () => {
    const text = '<policies><inbound><set-header name="h"><value>&#64;(not code) &#64;{nor this}</value></set-header></inbound></policies>';
    const doc = parsePolicyDocument(text);
    const out = formatPolicy(doc);
    expect(out).toContain('<value>&#64;(not code) &#64;{nor this}</value>');
    const value = findElement(parsePolicyDocument(out).root, 'value');
    expect(value?.children).toEqual([{ type: 'text', segments: [{ expression: false, text: '@(not code) @{nor this}' }] }]);
  });

  it('does not turn a literal &#64;{ in an attribute into an expression', () => {
    const out = fmt('<policies><inbound><set-variable name="a" value="&#64;{x}" /></inbound></policies>');
    expect(out).toContain('value="&#64;{x}"');
    expect(fmt(out)).toBe(out);
  });

  it('keeps a &#xA; in a plain attribute value as a reference (a raw newline would become a space)', () => {
    const out = fmt('<policies><inbound><set-variable name="a" value="line1&#xA;line2" /></inbound></policies>');
    expect(out).toContain('value="line1&#xA;line2"');
  });

  it('escapes literal < & > in text', () => {
    const out = fmt('<policies><inbound><set-header name="h"><value>a &lt; b &amp;&amp; c &gt; d</value></set-header></inbound></policies>');
    expect(out).toContain('<value>a &lt; b &amp;&amp; c &gt; d</value>');
  });
});

describe('formatPolicy: fragments', () => {
  it('writes an unwrapped fragment with its <fragment> wrapper', () => {
    expect(fmt(FRAGMENT_INNER, { expect: 'fragment' })).toBe(
      ['<fragment>', '    <set-header name="X-Trace" exists-action="override">', '        <value>@(context.RequestId.ToString())</value>', '    </set-header>', '    <base />', '</fragment>', ''].join(
        '\n',
      ),
    );
  });
});
