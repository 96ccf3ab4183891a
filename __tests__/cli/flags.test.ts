/**
 * What a newcomer types wrong on the command line: the bundled CLI in its own process.
 */
import { runCli } from '../helpers/run.js';
import { makeTree, policy } from '../helpers/tree.js';

test('an unknown flag is named first, with the closest known flag, even when a required flag looks missing because of it', () => {
  const r = runCli(['plan', '--polices', 'policies']);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("unknown option '--polices'\n(Did you mean --policies?)");
  expect(r.stderr).not.toContain('required option');
  const eq = runCli(['lint', '--policies', makeTree({ 'policy.xml': policy() }), '--frmat=json']);
  expect([eq.code, eq.stderr]).toEqual([2, expect.stringContaining("unknown option '--frmat'\n(Did you mean --format?)")]);
  // Nothing close: no guess.
  const far = runCli(['apply', '--zzzzzzzz']);
  expect(far.code).toBe(2);
  expect(far.stderr).toContain("unknown option '--zzzzzzzz'");
  expect(far.stderr).not.toContain('Did you mean');
  // A value that looks like a flag is the value of the flag before it, not a flag of its own.
  const value = runCli(['lint', '--policies', '--not-a-flag']);
  expect(value.stderr).not.toContain('unknown option');
});

test('lint --list-rules needs no --policies; lint without either says what is missing', () => {
  const r = runCli(['lint', '--list-rules']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/^unknown-section\s+error\s+/m);
  const bare = runCli(['lint']);
  expect(bare.code).toBe(2);
  expect(bare.stderr).toContain("required option '--policies <dir>' not specified");
});
