/**
 * Every relative link of README.md and docs/*.md points to a file or folder of the repository and,
 * with a `#fragment`, to a heading of that markdown file, by GitHub's anchor rules (lower case,
 * punctuation dropped, spaces to hyphens, `-1`, `-2` … for repeats).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { ROOT } from '../helpers/run.js';

const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/** The markdown without fenced blocks and inline code spans, where `[x](y)` is not a link. */
function prose(text: string): string[] {
  let fence: string | undefined;
  return text.split('\n').map((line) => {
    const m = FENCE.exec(line);
    if (m) {
      if (!fence) fence = m[1]!;
      else if (m[1]!.startsWith(fence[0]!) && m[1]!.length >= fence.length) fence = undefined;
      return '';
    }
    return fence ? '' : line.replace(/(`+)[\s\S]*?\1/g, '');
  });
}

/** GitHub's anchors of a markdown file's headings. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence: string | undefined;
  for (const line of text.split('\n')) {
    const m = FENCE.exec(line);
    if (m) {
      fence = fence ? undefined : m[1]!;
      continue;
    }
    const h = !fence && /^ {0,3}#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!h) continue;
    const base = h[1]!
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n ? `${base}-${n}` : base);
  }
  return out;
}

/** The broken relative links of one markdown file (path relative to `root`), each as `file:line: target (why)`. */
function brokenLinks(root: string, path: string): string[] {
  const text = readFileSync(join(root, path), 'utf8');
  const problems: string[] = [];
  prose(text).forEach((line, i) => {
    for (const m of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = m[1]!;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) continue;
      const [file, fragment] = target.split('#', 2) as [string, string | undefined];
      const resolved = file ? join(dirname(join(root, path)), decodeURIComponent(file)) : join(root, path);
      const where = `${path}:${i + 1}: ${target}`;
      if (!existsSync(resolved)) problems.push(`${where} (no such file: ${relative(root, resolved)})`);
      else if (fragment !== undefined && resolved.endsWith('.md') && !anchors(readFileSync(resolved, 'utf8')).has(decodeURIComponent(fragment)))
        problems.push(`${where} (no heading with that anchor in ${relative(root, resolved)})`);
    }
  });
  return problems;
}

const docs = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

test('every relative link of README.md and docs/*.md points to an existing file and heading', () => {
  expect(docs.length).toBeGreaterThan(5);
  expect(docs.flatMap((d) => brokenLinks(ROOT, d))).toEqual([]);
});

test('GitHub anchors: punctuation dropped, spaces to hyphens, repeats numbered', () => {
  const a = anchors('# identity.yaml: managed identities\n## Workflow: dev → test → prod\n## Inputs\n## Inputs\n```\n# not a heading\n```\n### Using an existing `azure/login` session\n');
  expect([...a]).toEqual(['identityyaml-managed-identities', 'workflow-dev--test--prod', 'inputs', 'inputs-1', 'using-an-existing-azurelogin-session']);
});

test('the link check can fail: a missing file, a missing anchor, and not a link inside code', () => {
  const dir = mkdtempSync(join(tmpdir(), 'docs-links-'));
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs', 'a.md'), '# A\n\n## Real heading\n');
  writeFileSync(join(dir, 'README.md'), 'See [a](docs/a.md#real-heading), [b](docs/b.md), [c](docs/a.md#gone), [d](#here).\n\n## Here\n\n`[x](url)` and\n```\n[y](nowhere.md)\n```\n');
  expect(brokenLinks(dir, 'README.md')).toEqual(['README.md:1: docs/b.md (no such file: docs/b.md)', 'README.md:1: docs/a.md#gone (no heading with that anchor in docs/a.md)']);
});
