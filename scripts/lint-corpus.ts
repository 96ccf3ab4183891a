/**
 * Lint over the shared corpus of real policy files (../shared/corpus, beside the project): each
 * file is copied into a temporary policies tree as an API policy (or a fragment), the whole tree is
 * linted, and the findings are counted by rule and severity. Files that do not parse are the
 * corpus's broken ones; every other error-level finding is listed, since a file that deploys in
 * APIM must not get one. `npx tsx scripts/lint-corpus.ts [--show rule-id]`
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { loadDesiredTree } from '../src/desired/load-desired.js';
import { lintTree } from '../src/lint/index.js';
import type { Diagnostic } from '../src/model/index.js';

export interface CorpusLint {
  files: number;
  findings: Diagnostic[];
  /** Original corpus path of each tree file. */
  origin: Map<string, string>;
}

export async function lintCorpus(corpus = resolve(import.meta.dirname, '..', '..', 'shared', 'corpus')): Promise<CorpusLint> {
  const rows = readFileSync(join(corpus, 'MANIFEST.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'));
  const root = mkdtempSync(join(tmpdir(), 'apim-policy-corpus-'));
  const origin = new Map<string, string>();
  rows.forEach(([file, , , , kind], i) => {
    const rel = kind === 'fragment' ? `policy fragments/f${i}/policy.xml` : `apis/a${i}/policy.xml`;
    const dest = join(root, rel);
    mkdirSync(dirname(dest), { recursive: true });
    copyFileSync(join(corpus, file!), dest);
    origin.set(dest, file!);
  });
  const findings = lintTree(await loadDesiredTree(root));
  return { files: rows.length, findings, origin };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const show = process.argv.indexOf('--show') > 0 ? process.argv[process.argv.indexOf('--show') + 1] : undefined;
  const { files, findings, origin } = await lintCorpus();
  const counts = new Map<string, number>();
  for (const d of findings) counts.set(`${d.rule}\t${d.severity}`, (counts.get(`${d.rule}\t${d.severity}`) ?? 0) + 1);
  console.log(`${files} corpus files, ${findings.length} findings`);
  for (const [k, n] of [...counts].sort()) console.log(`  ${k.replace('\t', '  ').padEnd(48)} ${n}`);
  const bad = findings.filter((d) => d.severity === 'error' && d.rule !== 'parse');
  if (bad.length) console.log(`\nerror-level findings on files that parse (must be none):`);
  for (const d of bad) console.log(`  ${origin.get(d.file) ?? d.file}:${d.line}:${d.column} [${d.rule}] ${d.message}`);
  if (show) for (const d of findings.filter((x) => x.rule === show)) console.log(`  ${origin.get(d.file) ?? d.file}:${d.line}:${d.column} ${d.message}`);
  process.exitCode = bad.length ? 1 : 0;
}
