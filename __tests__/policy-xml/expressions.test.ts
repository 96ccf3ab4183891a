/**
 * findExpressions: where each `@( … )` / `@{ … }` policy expression starts and ends in a policy
 * document as written. Fixtures are written inline; each one puts something after the expression
 * that would be swallowed (or cut short) by a scanner that misreads C#.
 */
import { ScanError, findExpressions } from '../../src/policy-xml/index.js';

/** The text of every expression found, in order. */
function found(text: string): string[] {
  return findExpressions(text).map((s) => text.slice(s.start, s.end));
}

function scanError(text: string): ScanError {
  try {
    findExpressions(text);
  } catch (e) {
    if (e instanceof ScanError) return e;
    throw e;
  }
  throw new Error(`expected a ScanError for ${JSON.stringify(text)}`);
}

describe('findExpressions: basic shapes', () => {
  it('finds nothing in a document without expressions', () => {
    expect(findExpressions('<policies><inbound><base /></inbound></policies>')).toEqual([]);
  });

  it('finds a single-statement @( ) expression with its exact half-open range', () => {
    const text = '<set-header name="x"><value>@(context.RequestId)</value></set-header>';
    const start = text.indexOf('@(');
    const end = text.indexOf('</value>');
    expect(findExpressions(text)).toEqual([{ start, end }]);
  });

  it('finds a multi-statement @{ } block', () => {
    const code = '@{ var a = 1; return a.ToString(); }';
    expect(found(`<value>${code}</value>`)).toEqual([code]);
  });

  it('finds several expressions in document order, in text and attributes', () => {
    const text = '<a>@(1)</a><b c="@(2)" d="x-@{return 3;}-y" />@(4)';
    expect(found(text)).toEqual(['@(1)', '@(2)', '@{return 3;}', '@(4)']);
  });

  it('ignores an @ that is not followed by ( or {', () => {
    expect(found('<value>user@example.com @ x @[y] @"z"</value>')).toEqual([]);
  });

  it('ignores an @ at the very end of the text', () => {
    expect(found('<value>a@')).toEqual([]);
  });
});

describe('findExpressions: XML-breaking characters inside expressions', () => {
  it('keeps a raw " inside a double-quoted attribute within the expression', () => {
    const expr = '@(context.Variables.GetValueOrDefault<string>("x") == "y")';
    const text = `<when condition="${expr}">`;
    expect(found(text)).toEqual([expr]);
  });

  it('handles generics As<JObject>() and comparisons <, > and &&', () => {
    const expr = '@(context.Request.Body.As<JObject>(preserveContent: true)["n"].Value<int>() < 5 && 2 > 1)';
    expect(found(`<when condition="${expr}" />`)).toEqual([expr]);
  });

  it('balances nested brackets ([{}]) and ends at the bracket that closes the opener', () => {
    const expr = '@(new[] { (1), [2] }.Select(x => new { v = x[0] }))';
    expect(found(`<value>${expr})]}</value>`)).toEqual([expr]);
  });

  it('ends a @{ block at its own } even when it contains ( ) and [ ]', () => {
    const expr = '@{ if (a[0] == 1) { return f(g[1]); } return null; }';
    expect(found(`${expr} } ) tail`)).toEqual([expr]);
  });

  it('does not let a closer of the wrong kind end the expression', () => {
    // ']' and '}' do not close '@(': only ')' does.
    expect(found('@(a ] } b) rest)')).toEqual(['@(a ] } b)']);
  });
});

describe('findExpressions: C# strings', () => {
  it('does not count ) or } inside a regular string', () => {
    expect(found('@(x == ")" || y == "}")tail)')).toEqual(['@(x == ")" || y == "}")']);
    expect(found('@{ return "}"; }tail}')).toEqual(['@{ return "}"; }']);
  });

  it('honours escaped quotes \\" inside a regular string', () => {
    const expr = '@("say \\")\\" twice")';
    expect(found(`${expr}tail)`)).toEqual([expr]);
  });

  it('ends a string at a quote preceded by an escaped backslash', () => {
    const expr = '@("\\\\")'; // C#: "\\" — one backslash, then the string closes
    expect(found(`${expr}tail)`)).toEqual([expr]);
  });

  it('reads verbatim strings with doubled quotes @"a""b)"', () => {
    const expr = '@{ var s = @"a""b)"; return s; }';
    expect(found(`${expr}tail}`)).toEqual([expr]);
  });

  it('keeps a verbatim string with a doubled quote open across a line break', () => {
    // Read as @"x" followed by a regular string, the line break would end that string and the
    // ")" on the next line would close the expression too early.
    const expr = '@(@"x""\n)" + y)';
    expect(found(`${expr}tail)`)).toEqual([expr]);
  });

  it('does not treat backslash as an escape inside a verbatim string', () => {
    const expr = '@(@"c:\\")';
    expect(found(`${expr} tail)`)).toEqual([expr]);
  });

  it('reads interpolated strings with nested code and strings $"x{y("}")}z"', () => {
    const expr = '@($"x{y("}")}z")';
    expect(found(`${expr}tail)`)).toEqual([expr]);
  });

  it('reads interpolations holding a conditional with brackets in its strings', () => {
    const expr = '@($"{(a ? "b)" : "c}")}")';
    expect(found(`${expr}x)`)).toEqual([expr]);
  });

  it('treats {{ and }} as literal braces in an interpolated string', () => {
    const expr = '@($"{{ not code ) }}")';
    expect(found(`${expr}x)`)).toEqual([expr]);
  });

  it('reads verbatim interpolated strings $@"..." and @$"..."', () => {
    const a = '@($@"{{ ""q)"" {x} }}")';
    const b = '@(@$"path\\{name}"")")';
    expect(found(`${a}x)`)).toEqual([a]);
    expect(found(`${b}x)`)).toEqual([b]);
  });
});

describe('findExpressions: character literals', () => {
  it("reads ')' as a character, not a closer", () => {
    expect(found("@(c == ')')x)")).toEqual(["@(c == ')')"]);
  });

  it(`reads '"' as a character, not a string opener`, () => {
    expect(found(`@(c == '"')x")`)).toEqual([`@(c == '"')`]);
  });

  it("reads '\\'' (escaped single quote) as one character literal", () => {
    expect(found("@(c == '\\'' || d == ')')x)")).toEqual(["@(c == '\\'' || d == ')')"]);
  });

  it("reads '<' and '{' as characters", () => {
    expect(found("@{ return c == '<' || c == '{' ? 1 : 2; }x}")).toEqual(["@{ return c == '<' || c == '{' ? 1 : 2; }"]);
  });
});

describe('findExpressions: comments', () => {
  it('ignores ) inside a // comment, which ends at the newline', () => {
    const expr = '@{\n  // closes ) and } here\n  return 1;\n}';
    expect(found(`<value>${expr}</value>`)).toEqual([expr]);
  });

  it('resumes code after the // comment line', () => {
    // If the comment did not end at the newline, the final ) would be swallowed.
    const expr = '@(f(1 // ignore )\n))';
    expect(found(`${expr}tail`)).toEqual([expr]);
  });

  it('ignores ) inside a /* */ block comment', () => {
    expect(found('@( /* ) */ 1)x)')).toEqual(['@( /* ) */ 1)']);
  });

  it('ignores an @( inside an XML comment', () => {
    const text = '<policies><!-- @( never closed --><inbound>@(1)</inbound></policies>';
    expect(found(text)).toEqual(['@(1)']);
  });

  it('ignores an @{ inside an XML comment spanning lines', () => {
    const text = '<!--\n  old: @{ return\n-->\n<value>@{ return 2; }</value>';
    expect(found(text)).toEqual(['@{ return 2; }']);
  });

  it('does not treat <!-- inside a C# string as an XML comment', () => {
    const expr = '@("<!--")';
    expect(found(`<value>${expr}</value><value>@(2)</value>`)).toEqual([expr, '@(2)']);
  });
});

describe('findExpressions: errors', () => {
  it('throws ScanError at the @ of an unterminated @( expression', () => {
    const text = '<policies>\n  <when condition="@(foo(1)">\n</policies>';
    const err = scanError(text);
    expect(err.offset).toBe(text.indexOf('@('));
    expect(err.message).toContain('@(');
  });

  it('throws ScanError at the @ of an unterminated @{ block', () => {
    const text = '<value>@(1)</value>\n<value>@{ return "x"; </value>';
    const err = scanError(text);
    expect(err.offset).toBe(text.indexOf('@{'));
    expect(err.message).toContain('@{');
  });

  it('reports an expression whose string never closes as unterminated', () => {
    const text = 'x @("abc) y';
    expect(scanError(text).offset).toBe(2);
  });

  it('reports an expression left open by an unclosed block comment', () => {
    const text = 'ab @(x /* never';
    expect(scanError(text).offset).toBe(3);
  });

  it('throws ScanError at an unterminated XML comment', () => {
    const text = '<policies>\n<inbound><!-- forgot to close\n</inbound></policies>';
    const err = scanError(text);
    expect(err.offset).toBe(text.indexOf('<!--'));
    expect(err.message).toMatch(/comment/i);
  });

  it('is a ScanError that is also an Error', () => {
    expect(() => findExpressions('@(')).toThrow(ScanError);
    expect(() => findExpressions('@(')).toThrow(Error);
  });
});

describe('findExpressions: XML-escaped expressions', () => {
  it('reads &quot; as a quote: a // inside an escaped string is not a comment', () => {
    const expr = '@{&#xA;return &quot;https://x&quot;;&#xA;}';
    const text = `<set-variable name="u" value="${expr}" />`;
    expect(found(text)).toEqual([expr]);
  });

  it('reads &#xA; as a newline that ends a // comment', () => {
    const expr = '@{&#xA;// a ) } ]&#xA;return 1;&#xA;}';
    expect(found(`value="${expr}" x="}"`)).toEqual([expr]);
  });

  it('reads &#xD;&#xA; line breaks too', () => {
    const expr = '@{&#xD;&#xA;// )&#xD;&#xA;return 1;&#xD;&#xA;}';
    expect(found(`${expr}tail}`)).toEqual([expr]);
  });

  it('does not count ) inside an escaped string', () => {
    const expr = '@(&quot;a)&quot; == x)';
    expect(found(`${expr}tail)`)).toEqual([expr]);
  });

  it('reads numeric quote references &#34; and &#x22;', () => {
    expect(found('@(&#34;)&#34;)x)')).toEqual(['@(&#34;)&#34;)']);
    expect(found('@(&#x22;)&#x22;)x)')).toEqual(['@(&#x22;)&#x22;)']);
  });

  it('reads &apos;)&apos; as a character literal', () => {
    const expr = '@(&quot;a&quot; + &apos;)&apos;)';
    expect(found(`${expr}x)`)).toEqual([expr]);
  });

  it('reads &lt; &gt; &amp;&amp; as operators, not as string or comment syntax', () => {
    const expr = '@(a &lt; b &amp;&amp; c.As&lt;JObject&gt;() != null)';
    expect(found(`<when condition="${expr}">`)).toEqual([expr]);
  });

  it('treats an escaped and a raw spelling of one expression alike', () => {
    const raw = '@{\nvar u = "https://x/)";\nreturn u;\n}';
    const escaped = '@{&#xA;var u = &quot;https://x/)&quot;;&#xA;return u;&#xA;}';
    expect(found(`a="${raw}" b="${escaped}"`)).toEqual([raw, escaped]);
  });

  it('does not treat "&amp;quot;" (a literal &quot; in C#) as a quote', () => {
    // Escaped once, "&amp;quot;" is the C# text `&quot;` — not a string delimiter, so ")" closes.
    expect(found('@(x &amp;quot;)y &amp;quot;')).toEqual(['@(x &amp;quot;)']);
  });
});
