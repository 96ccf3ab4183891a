/**
 * CPU of the canonical comparison over the shared corpus (../shared/corpus, read in place, never
 * copied): per file what `computePlan` does per resource — parse the desired text and the live
 * text (the file as APIM would return it, with one header added so most pairs really differ),
 * canonical form of both, compare, unified diff when they differ.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serialiseLikeApim } from '../../src/emulator/apim-serialise.js';
import { canonicalize, diffCanonical, parsePolicyDocument } from '../../src/policy-xml/index.js';

export const CORPUS = resolve(import.meta.dirname, '..', '..', '..', 'shared', 'corpus');

export interface CorpusDiff {
  files: number;
  /** Pairs compared (files that parse). */
  compared: number;
  /** Files the parser rejects (the corpus's broken ones). */
  rejected: number;
  /** Pairs whose canonical forms differ (a diff was made). */
  differing: number;
  /** CPU of the first pass (cold: includes JIT warm-up). */
  firstPassCpuMs: number;
  /** Median CPU of the next passes. */
  warmCpuMs: number;
  bytes: number;
}

const EDIT = '<set-header name="x-bench" exists-action="override"><value>1</value></set-header>';

export function corpusDiff(corpus = CORPUS, passes = 6): CorpusDiff {
  const rows = readFileSync(join(corpus, 'MANIFEST.tsv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split('\t'));
  const pairs: Array<{ file: string; desired: string; live: string }> = [];
  let rejected = 0;
  let bytes = 0;
  for (const [file] of rows) {
    const text = readFileSync(join(corpus, file!), 'utf8');
    bytes += Buffer.byteLength(text);
    try {
      // The live side as ARM returns it (format=xml), of a copy with one policy added after <base />.
      const edited = text.replace(/<base\s*\/>/, (m) => `${m}${EDIT}`);
      const live = serialiseLikeApim(parsePolicyDocument(edited, { file: file!, expect: 'any' }), 'xml');
      parsePolicyDocument(text, { file: file!, expect: 'any' });
      pairs.push({ file: file!, desired: text, live });
    } catch {
      rejected++;
    }
  }
  let differing = 0;
  const pass = (): number => {
    differing = 0;
    const cpu0 = process.cpuUsage();
    for (const p of pairs) {
      const after = canonicalize(parsePolicyDocument(p.desired, { file: p.file, expect: 'any' }));
      const before = canonicalize(parsePolicyDocument(p.live, { file: p.file, expect: 'any' }));
      if (after !== before) {
        differing++;
        diffCanonical(before, after, `live/${p.file}`, `desired/${p.file}`);
      }
    }
    const cpu = process.cpuUsage(cpu0);
    return (cpu.user + cpu.system) / 1000;
  };
  const first = pass();
  const warm = Array.from({ length: Math.max(1, passes - 1) }, pass).sort((a, b) => a - b);
  return {
    files: rows.length,
    compared: pairs.length,
    rejected,
    differing,
    firstPassCpuMs: Math.round(first),
    warmCpuMs: Math.round(warm[Math.floor(warm.length / 2)]!),
    bytes,
  };
}
