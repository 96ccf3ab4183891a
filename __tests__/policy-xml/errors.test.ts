/**
 * parsePolicyDocument rejects what APIM would not accept with PolicySyntaxError naming the file,
 * the 1-based line and column, and what is wrong.
 */
import { MAX_POLICY_BYTES, PolicySyntaxError, parsePolicyDocument, type ParseOptions } from '../../src/policy-xml/index.js';

const FILE = 'apis/orders/policy.xml';

function syntaxError(text: string, options: ParseOptions = {}): PolicySyntaxError {
  try {
    parsePolicyDocument(text, { file: FILE, ...options });
  } catch (e) {
    if (e instanceof PolicySyntaxError) return e;
    throw new Error(`expected PolicySyntaxError, got ${String(e)}`);
  }
  throw new Error('expected PolicySyntaxError, but the document was accepted');
}

/** 1-based line and column of the first occurrence of `needle` in `text` (LF line endings). */
function where(text: string, needle: string, from = 0): { line: number; column: number } {
  const offset = text.indexOf(needle, from);
  if (offset < 0) throw new Error(`fixture does not contain ${needle}`);
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - (before.lastIndexOf('\n') + 1) + 1 };
}

function expectAt(err: PolicySyntaxError, at: { line: number; column: number }): void {
  expect({ file: err.file, line: err.line, column: err.column }).toEqual({ file: FILE, ...at });
  expect(err.message.startsWith(`${FILE}:${at.line}:${at.column}: `)).toBe(true);
}

describe('PolicySyntaxError', () => {
  it('is an Error with file, line, column and reason in its message', () => {
    const err = syntaxError('<policy />');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('PolicySyntaxError');
    expect(err.message).toBe(`${err.file}:${err.line}:${err.column}: ${err.reason}`);
  });

  it('uses a placeholder file name when none is given', () => {
    try {
      parsePolicyDocument('<policy />');
      throw new Error('accepted');
    } catch (e) {
      expect(e).toBeInstanceOf(PolicySyntaxError);
      expect((e as PolicySyntaxError).file.length).toBeGreaterThan(0);
    }
  });
});

describe('parsePolicyDocument: not a policy document', () => {
  it('rejects plain text', () => {
    const err = syntaxError('this is not xml at all');
    expectAt(err, { line: 1, column: 1 });
  });

  it('rejects JSON', () => {
    const err = syntaxError('{\n  "properties": { "value": "<policies />" }\n}');
    expectAt(err, { line: 1, column: 1 });
  });

  it('rejects a <policy> root, naming it and the expected root', () => {
    const text = '<!-- c -->\n<policy>\n  <inbound />\n</policy>';
    const err = syntaxError(text);
    expectAt(err, where(text, '<policy>'));
    expect(err.reason).toContain('<policy>');
    expect(err.reason).toContain('<policies>');
  });

  it('rejects a <fragment> where <policies> is expected', () => {
    const text = '<fragment>\n  <base />\n</fragment>';
    const err = syntaxError(text, { expect: 'policies' });
    expectAt(err, { line: 1, column: 1 });
    expect(err.reason).toContain('<policies>');
    expect(err.reason).toContain('<fragment>');
  });

  it('rejects a <policies> document where a fragment is expected', () => {
    const text = '<?xml version="1.0"?>\n<policies>\n  <inbound />\n</policies>';
    const err = syntaxError(text, { expect: 'fragment' });
    expectAt(err, where(text, '<policies>'));
    expect(err.reason).toContain('<fragment>');
    expect(err.reason).toContain('<policies>');
  });

  it('accepts either root when any is expected', () => {
    expect(parsePolicyDocument('<policies />').kind).toBe('policies');
    expect(parsePolicyDocument('<fragment />').kind).toBe('fragment');
  });

  it('rejects two root elements at the second one', () => {
    const text = '<policies>\n  <inbound />\n</policies>\n<policies>\n</policies>';
    const err = syntaxError(text);
    expectAt(err, { line: 4, column: 1 });
    expect(err.reason).toMatch(/second root/);
    expect(err.reason).toContain('<policies>');
  });

  it('rejects a second root after a self-closing first root, at the second one', () => {
    const text = '<policies />\n  <fragment>\n  </fragment>';
    const err = syntaxError(text);
    expectAt(err, { line: 2, column: 3 });
    expect(err.reason).toContain('<fragment>');
  });

  it('accepts fragment content that starts with an XML declaration', () => {
    const doc = parsePolicyDocument('<?xml version="1.0" encoding="utf-8"?>\n<base />', { file: FILE, expect: 'fragment' });
    expect(doc.root.name).toBe('fragment');
  });

  it('reports errors in fragment content after an XML declaration at file positions', () => {
    const text = '<?xml version="1.0"?>\n<base a="&nbsp;" />';
    expectAt(syntaxError(text, { expect: 'fragment' }), where(text, '&nbsp;'));
  });

  it('rejects text after the root element, at that text', () => {
    const text = '<policies>\n  <inbound />\n</policies>\ntrailing words';
    expectAt(syntaxError(text), where(text, 'trailing'));
  });

  it('rejects text or an expression after a self-closing root instead of dropping it', () => {
    const text = '<policies />\n  stray';
    const err = syntaxError(text);
    expectAt(err, where(text, 'stray'));
    expect(err.reason).toMatch(/outside the root/);
    const expr = '<fragment/>\n@(context.Request)';
    expectAt(syntaxError(expr), where(expr, '@('));
  });

  it('accepts whitespace and comments after a self-closing root', () => {
    const doc = parsePolicyDocument('<policies />\n<!-- end -->\n\n');
    expect(doc.trailing.map((c) => c.text)).toEqual([' end ']);
  });
});

describe('parsePolicyDocument: expression and comment errors', () => {
  it('points at the @ of an unterminated expression', () => {
    const text = '<policies>\n  <inbound>\n    <set-variable name="a" value="@(context.Variables.GetValueOrDefault(&quot;x&quot;)" />\n  </inbound>\n</policies>';
    const err = syntaxError(text);
    expectAt(err, where(text, '@('));
    expect(err.reason).toContain('@(');
    expect(err.reason).toMatch(/never closed/);
  });

  it('points at an unterminated @{ block after an earlier multi-line expression', () => {
    const text = '<policies>\n  <inbound>\n    <set-variable name="a" value="@{\n      return 1;\n    }" />\n    <set-variable name="b" value="@{ return (2; }" />\n  </inbound>\n</policies>';
    const err = syntaxError(text);
    expectAt(err, where(text, '@{ return (2'));
  });

  it('points at the start of an unterminated comment', () => {
    const text = '<policies>\n  <inbound>\n    <!-- TODO: remove\n    <base />\n  </inbound>\n</policies>';
    const err = syntaxError(text);
    expectAt(err, where(text, '<!--'));
    expect(err.reason).toMatch(/comment/);
    expect(err.reason).toContain('-->');
  });

  it('rejects "--" inside a comment', () => {
    const text = '<policies>\n  <!-- a -- b -->\n</policies>';
    const err = syntaxError(text);
    expectAt(err, where(text, '<!--'));
    expect(err.reason).toContain('--');
  });
});

describe('parsePolicyDocument: malformed XML', () => {
  it('reports a mismatched closing tag at the closing tag, naming both tags', () => {
    const text = '<policies>\n  <inbound>\n    <base />\n  </outbound>\n</policies>';
    const err = syntaxError(text);
    expectAt(err, where(text, '</outbound>'));
    expect(err.reason).toContain('outbound');
    expect(err.reason).toContain('inbound');
  });

  it('reports a mismatched closing tag at the right column after a long expression', () => {
    const text = '<policies>\n  <inbound>\n    <set-header name="h"><value>@(context.Request.Headers.GetValueOrDefault("a", "b"))</valu>\n  </inbound>\n</policies>';
    const err = syntaxError(text);
    expectAt(err, where(text, '</valu>'));
  });

  it('reports a mismatched closing tag after a multi-line expression on the right line', () => {
    const text = '<policies>\n<inbound>\n<x a="@{\nreturn 1;\n}"></y>\n</inbound>\n</policies>';
    const err = syntaxError(text);
    expectAt(err, where(text, '</y>'));
  });

  it('reports an element that is never closed', () => {
    const text = '<policies>\n  <inbound>\n    <base />\n  </inbound>\n';
    const err = syntaxError(text);
    expect(err.reason).toContain('policies');
  });

  it('rejects a DOCTYPE with an ENTITY definition and never expands it', () => {
    const text = '<?xml version="1.0"?>\n<!DOCTYPE policies [\n  <!ENTITY boom "expanded!">\n]>\n<policies><inbound>&boom;</inbound></policies>';
    const err = syntaxError(text);
    expectAt(err, where(text, '<!DOCTYPE'));
    expect(err.reason).toContain('DOCTYPE');
    expect(err.message).not.toContain('expanded!');
  });

  it('rejects the undefined entity &nbsp; at its position, suggesting a numeric reference', () => {
    const text = '<policies>\n  <inbound>\n    <set-header name="h"><value>a&nbsp;b</value></set-header>\n  </inbound>\n</policies>';
    const err = syntaxError(text);
    expectAt(err, where(text, '&nbsp;'));
    expect(err.reason).toContain('&nbsp;');
    expect(err.reason).toContain('&#160;');
  });

  it('rejects an undefined entity in an attribute value', () => {
    const text = '<policies>\n  <inbound>\n    <set-header name="a&copy;" />\n  </inbound>\n</policies>';
    expectAt(syntaxError(text), where(text, '&copy;'));
  });

  it('rejects a bare & outside an expression, suggesting &amp;', () => {
    const text = '<policies>\n  <inbound>\n    <set-header name="h"><value>@(1) & 2</value></set-header>\n  </inbound>\n</policies>';
    const err = syntaxError(text);
    expectAt(err, where(text, '& 2'));
    expect(err.reason).toContain('&amp;');
  });

  it('rejects a bare & in an attribute value', () => {
    const text = '<policies>\n  <inbound>\n    <set-backend-service base-url="https://x/?a=1&b=2" />\n  </inbound>\n</policies>';
    expectAt(syntaxError(text), where(text, '&b=2'));
  });

  it('accepts & and && inside an expression', () => {
    expect(() => parsePolicyDocument('<policies><inbound><when condition="@(a && b & c)" /></inbound></policies>')).not.toThrow();
  });

  it('rejects < inside an attribute value outside an expression, at the <', () => {
    const text = '<policies>\n  <inbound>\n    <set-header name="a < b" />\n  </inbound>\n</policies>';
    const err = syntaxError(text);
    expectAt(err, where(text, '< b'));
    expect(err.reason).toContain('&lt;');
  });

  it('finds the < in an attribute at the right column after an expression on the same line', () => {
    const text = '<policies>\n<inbound>\n<x a="@(&quot;long expression here&quot;)" b="1<2" />\n</inbound>\n</policies>';
    expectAt(syntaxError(text), where(text, '<2'));
  });

  it('rejects a repeated attribute', () => {
    const text = '<policies>\n  <inbound>\n    <set-header name="a" name="b" />\n  </inbound>\n</policies>';
    const err = syntaxError(text);
    expect(err.line).toBe(3);
    expect(err.reason).toContain('name');
  });

  it('rejects elements nested absurdly deep with a PolicySyntaxError, not a crash', () => {
    const depth = 5000;
    const text = `<policies>\n${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}\n</policies>`;
    const err = syntaxError(text);
    expect(err.line).toBe(2);
    expect(err.reason).toMatch(/nest|deep/i);
  });

  it('accepts realistic nesting (a few dozen levels)', () => {
    const depth = 40;
    const text = `<policies><inbound>${'<choose><when condition="@(true)">'.repeat(depth)}<base />${'</when></choose>'.repeat(depth)}</inbound></policies>`;
    expect(parsePolicyDocument(text).kind).toBe('policies');
  });
});

describe('parsePolicyDocument: binary, empty and oversize input', () => {
  it('rejects NUL bytes at their position', () => {
    const text = '<policies>\n  <inbound>\u0000</inbound>\n</policies>';
    const err = syntaxError(text);
    expectAt(err, { line: 2, column: 12 });
    expect(err.reason).toContain('U+0000');
  });

  it('rejects random binary bytes', () => {
    let seed = 12345;
    const bytes = Buffer.alloc(4096);
    for (let i = 0; i < bytes.length; i++) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      bytes[i] = seed >> 16;
    }
    const err = syntaxError(bytes.toString('latin1'));
    expect(err.file).toBe(FILE);
    expect(err.line).toBeGreaterThanOrEqual(1);
    expect(err.column).toBeGreaterThanOrEqual(1);
  });

  it('rejects a PNG header read as text', () => {
    const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]).toString('latin1');
    const err = syntaxError(png);
    expect(err.file).toBe(FILE);
  });

  it('rejects an empty file at 1:1', () => {
    const err = syntaxError('');
    expectAt(err, { line: 1, column: 1 });
    expect(err.reason).toMatch(/empty/);
  });

  it('rejects a whitespace-only file and a BOM-only file', () => {
    expect(syntaxError('  \r\n\t\n').reason).toMatch(/empty/);
    expect(syntaxError('\uFEFF').reason).toMatch(/empty/);
  });

  it('rejects a comment-only file (no root element)', () => {
    const err = syntaxError('<!-- nothing here -->\n');
    expect(err.reason).toMatch(/root/);
  });

  it('rejects a 10 MB file before parsing it, mentioning the size limit', () => {
    // Not timed (a busy machine is slow): an error early in the text that a parse would report
    // (an undefined entity at 1:20) is not what comes back, so the size is checked before any parsing.
    const text = `<policies><inbound>&nbsp;${'<base />'.repeat((10 * 1024 * 1024) / 8)}</inbound></policies>`;
    expect(syntaxError(text.slice(0, 200) + '</inbound></policies>').reason).toMatch(/nbsp/);
    const err = syntaxError(text);
    expectAt(err, { line: 1, column: 1 });
    expect(err.reason).toMatch(/256 KiB/);
  });

  it('accepts a document just under the size limit and rejects one just over it', () => {
    const shell = '<policies><inbound><!--  --></inbound></policies>';
    const under = shell.replace('<!--  -->', `<!-- ${'x'.repeat(MAX_POLICY_BYTES - shell.length)} -->`);
    expect(Buffer.byteLength(under)).toBe(MAX_POLICY_BYTES);
    expect(() => parsePolicyDocument(under)).not.toThrow();
    const over = under.replace('<!-- ', '<!-- y');
    expect(syntaxError(over).reason).toMatch(/256 KiB/);
  });
});

describe('parsePolicyDocument: BOM and CRLF', () => {
  const CRLF = '\uFEFF<policies>\r\n  <inbound>\r\n    <set-variable name="a" value="@{\r\n      return 1;\r\n    }" />\r\n    <base />\r\n  </inbound>\r\n</policies>\r\n';

  it('accepts a file with a BOM and CRLF line endings', () => {
    const doc = parsePolicyDocument(CRLF, { file: FILE });
    expect(doc.root.name).toBe('policies');
    const inbound = doc.root.children.find((c) => c.type === 'element');
    expect(inbound?.type === 'element' && inbound.line).toBe(2);
  });

  it('gives element positions in lines of the original file', () => {
    const doc = parsePolicyDocument(CRLF, { file: FILE });
    const inbound = doc.root.children.find((c) => c.type === 'element');
    const kids = inbound?.type === 'element' ? inbound.children.filter((c) => c.type === 'element') : [];
    expect(kids.map((k) => (k.type === 'element' ? [k.name, k.line, k.column] : null))).toEqual([
      ['set-variable', 3, 5],
      ['base', 6, 5],
    ]);
  });

  it('reports errors with the right line and column despite the BOM and CRLF', () => {
    const broken = CRLF.replace('  </inbound>', '  </outbound>');
    const err = syntaxError(broken);
    expectAt(err, { line: 7, column: 3 });
  });

  it('reports an entity error after a CRLF multi-line expression at the right place', () => {
    const broken = CRLF.replace('<base />', '<base a="&nbsp;" />');
    expectAt(syntaxError(broken), { line: 6, column: 14 });
  });

  it('reports an unterminated expression in a BOM file at the right column', () => {
    const err = syntaxError('\uFEFF<policies>\r\n  <inbound>@(foo(</inbound>\r\n</policies>');
    expectAt(err, { line: 2, column: 12 });
  });
});

describe('parsePolicyDocument: unwrapped fragments keep positions', () => {
  it('reports errors in unwrapped fragment content at positions of the file as written', () => {
    const text = '<base />\n<set-header name="a&nbsp;" />';
    const err = syntaxError(text, { expect: 'fragment' });
    expectAt(err, where(text, '&nbsp;'));
  });

  it('reports an unterminated expression in unwrapped fragment content at its @', () => {
    const text = '<base />\n<set-variable name="v" value="@(1" />';
    const err = syntaxError(text, { expect: 'fragment' });
    expectAt(err, where(text, '@('));
  });

  it('reports a stray closing tag in unwrapped fragment content at that tag', () => {
    const text = '<base />\n</inbound>';
    const err = syntaxError(text, { expect: 'fragment' });
    expectAt(err, where(text, '</inbound>'));
  });
});

describe('a file cut short', () => {
  it('names the innermost element left open, at the line it opened, never 1:1', () => {
    const text = '<policies>\n    <inbound>\n        <base />';
    const err = syntaxError(text);
    expectAt(err, where(text, '<inbound>'));
    expect(err.reason).toBe('<inbound> opened at line 2 is never closed (nor <policies>): the file ends first; is it cut short?');
  });
  it('skips comments, CDATA and quoted ">" on the way', () => {
    const text = '<policies>\n<inbound><base /></inbound>\n<backend>\n<!-- <x> -->\n<set-body><![CDATA[<y>]]></set-body>\n<set-header name="a>b" />';
    const err = syntaxError(text);
    expectAt(err, where(text, '<backend>'));
    expect(err.reason).toMatch(/^<backend> opened at line 3 is never closed/);
  });
  it('a start tag the file cuts in half is named as such', () => {
    const text = '<policies>\n<inbound><base /></inbound>\n<backend name="x"';
    const err = syntaxError(text);
    expectAt(err, where(text, '<backend'));
    expect(err.reason).toBe('the start tag <backend is never finished: the file ends first; is it cut short?');
  });
});
