/**
 * What the CLI prints, said right: `diff A B` on two folders speaks of the two trees (never of live
 * APIM or of an apply); a layout warning is printed once on the error path; colour follows
 * FORCE_COLOR (https://force-color.org) and NO_COLOR (https://no-color.org) through one decision.
 * The bundled CLI in its own process; `runCli` sets NO_COLOR=1 unless a test says otherwise.
 */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { colorWanted } from '../../src/render/color.js';
import { ROOT, runCli } from '../helpers/run.js';
import { edit, makeTree, policy, sampleCopy } from '../helpers/tree.js';

const ESC = '\u001b[';
const policyFiles = (dir: string): number => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('policy.xml')).length;

/** The sample tree with one policy changed and one removed. */
function changedSample(): string {
  const b = sampleCopy();
  edit(b, 'apis/orders/policy.xml', '<inbound>', '<inbound>\n        <set-header name="x-diff" exists-action="override"><value>1</value></set-header>');
  rmSync(join(b, 'apis/chat'), { recursive: true });
  return b;
}

test('diff of two equal trees: "no differences" between the two trees, exit 0', () => {
  const b = sampleCopy();
  const run = runCli(['diff', 'policies', b]);
  expect(run.stdout).toBe(`No differences: the two trees policies and ${b} hold the same ${policyFiles(join(ROOT, 'policies'))} resources.\n`);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
});

test('diff of two different trees: the summary counts what is only in either tree and what changed; nothing of live APIM or apply', () => {
  const b = changedSample();
  const run = runCli(['diff', 'policies', b]);
  expect(run.code).toBe(1);
  expect(run.stdout).toMatch(/^~ apis\/orders\/policies\/policy \(update, /m);
  const unchanged = policyFiles(join(ROOT, 'policies')) - 2;
  expect(run.stdout).toMatch(new RegExp(`\\nThe two trees differ: 0 only in ${b}, 1 changed, 1 only in policies, ${unchanged} the same\\.\\n$`));
  expect(run.stdout).not.toMatch(/live|apply|Plan:/i);
});

test('a layout warning is printed once when an error stops the plan', () => {
  const tree = makeTree({ 'apis/orders/policy.xml': policy(), 'stray/policy.xml': policy(), 'apis/bad/policy.xml': '<policies>\n  <inbound>\n' });
  const run = runCli(['plan', '--policies', tree, '--live-snapshot', tree]);
  expect(run.code).toBe(1);
  expect(run.stderr.match(/stray\/policy\.xml:1:1: warning: policy\.xml is not in a place of the APIOps layout/g)).toHaveLength(1);
  expect(run.stderr.match(/apis\/bad\/policy\.xml:\d+:\d+: error:/g)).toHaveLength(1);
  expect(run.stderr).toMatch(/\nerror: policies tree .*: 1 error\(s\); nothing was planned or written\n$/);
});

describe('colour', () => {
  test('one decision: FORCE_COLOR wins (0/false off), then NO_COLOR (non-empty) off, then TERM=dumb off, then the terminal', () => {
    const tty = { isTTY: true };
    const pipe = { isTTY: false };
    expect(colorWanted(tty, {})).toBe(true);
    expect(colorWanted(pipe, {})).toBe(false);
    expect(colorWanted(tty, { NO_COLOR: '1' })).toBe(false);
    expect(colorWanted(tty, { NO_COLOR: '' })).toBe(true);
    expect(colorWanted(tty, { TERM: 'dumb' })).toBe(false);
    expect(colorWanted(pipe, { FORCE_COLOR: '1' })).toBe(true);
    expect(colorWanted(pipe, { FORCE_COLOR: '3' })).toBe(true);
    expect(colorWanted(pipe, { FORCE_COLOR: 'true' })).toBe(true);
    expect(colorWanted(pipe, { FORCE_COLOR: '1', NO_COLOR: '1' })).toBe(true);
    expect(colorWanted(tty, { FORCE_COLOR: '0' })).toBe(false);
    expect(colorWanted(tty, { FORCE_COLOR: 'false' })).toBe(false);
    expect(colorWanted(tty, { FORCE_COLOR: '' })).toBe(true);
    expect(colorWanted(pipe, { FORCE_COLOR: '' })).toBe(false);
  });

  test('piped output: FORCE_COLOR=1 colours diff and plan (even with NO_COLOR=1); NO_COLOR=1 or FORCE_COLOR=0 does not', () => {
    const b = changedSample();
    for (const args of [
      ['diff', 'policies', b],
      ['plan', '--policies', b, '--live-snapshot', 'policies'],
    ]) {
      expect(runCli(args, { env: { FORCE_COLOR: '1', NO_COLOR: '' } }).stdout).toContain(ESC);
      expect(runCli(args, { env: { FORCE_COLOR: '1', NO_COLOR: '1' } }).stdout).toContain(ESC);
      expect(runCli(args, { env: { FORCE_COLOR: '', NO_COLOR: '1' } }).stdout).not.toContain(ESC);
      expect(runCli(args, { env: { FORCE_COLOR: '0', NO_COLOR: '' } }).stdout).not.toContain(ESC);
      expect(runCli(args, { env: { FORCE_COLOR: '', NO_COLOR: '' } }).stdout).not.toContain(ESC);
    }
  }, 60000);
});
