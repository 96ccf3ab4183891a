import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ROOT } from './run.js';

/** Writes `files` (relative path → content) into a fresh temporary folder and returns its path. */
export function makeTree(files: Record<string, string | Buffer>): string {
  const root = mkdtempSync(join(tmpdir(), 'apim-policy-test-'));
  for (const [rel, content] of Object.entries(files)) {
    const path = join(root, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, content);
  }
  return root;
}

/** A small valid policy document whose inbound section holds `inbound`. */
export function policy(inbound = '<base />'): string {
  return `<policies>\n    <inbound>\n        ${inbound}\n    </inbound>\n    <backend>\n        <base />\n    </backend>\n    <outbound>\n        <base />\n    </outbound>\n    <on-error>\n        <base />\n    </on-error>\n</policies>\n`;
}

/** A copy of the sample tree (`policies/`, the emulator's default seed) in a fresh temporary folder, to change. */
export function sampleCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'apim-policy-sample-'));
  cpSync(join(ROOT, 'policies'), dir, { recursive: true });
  return dir;
}

/** Replaces `from` with `to` in one file of a tree; a fixture that no longer has `from` fails loudly. */
export function edit(dir: string, rel: string, from: string, to: string): void {
  const path = join(dir, rel);
  const text = readFileSync(path, 'utf8');
  if (!text.includes(from)) throw new Error(`fixture: ${rel} has no ${from}`);
  writeFileSync(path, text.replace(from, to));
}
