/**
 * Entities decoded exactly once, end to end: the bundled CLI applies a well-formed file with escaped
 * expressions (sent so that APIM's one decode gives exactly the planned C#) and a raw file (C# as
 * written); what the emulator then holds is compared with the C# each file means, and a fresh plan
 * finds nothing to do. `&amp;amp;` and `&amp;` are different programs, so a plan between them is an update.
 */
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli } from '../helpers/emulator.js';
import { runCli } from '../helpers/run.js';
import { makeTree, policy } from '../helpers/tree.js';

let emu: RunningEmulator;
afterEach(async () => {
  await emu?.close();
});

/** One XML decode of a stored `format=xml` text (what APIM's decoder does), written here without the product's code. */
const decodeOnce = (xml: string) =>
  xml.replace(/&(lt|gt|quot|apos|amp|#x[0-9a-f]+|#[0-9]+);/gi, (_, e: string) =>
    e[0] === '#'
      ? String.fromCodePoint(e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10))
      : ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[e]!,
  );
const stored = async (address: string) => decodeOnce(((await admin(emu, 'GET', 'state')).resources[address] as { value: string }).value);
const header = (name: string, expr: string) => `<set-header name="${name}" exists-action="override"><value>${expr}</value></set-header>`;

test('a well-formed file means one decode, a raw file its text: APIM ends up holding exactly that C#, and a re-plan is clean', async () => {
  // The instance has an API `raw` without a policy (this tool deploys policies, not APIs).
  emu = await startEmulator({ seedDir: makeTree({ 'policy.xml': policy(), 'apis/raw/apiInformation.json': '{"properties":{"displayName":"raw","path":"raw"}}' }) });
  const tree = makeTree({
    'policy.xml': policy(`${header('x', '@("Tom &amp; Jerry")')}\n${header('y', '@("Tom &amp;amp; Jerry")')}\n${header('z', '@("&#97;" + "&amp;#97;")')}`),
    // Not well-formed (a raw `<` and `&&` in an attribute): its C# is the text as written.
    'apis/raw/policy.xml': policy('<set-variable name="v" value="@(1 < 2 && "a&amp;b" == "a&amp;b")" />'),
  });
  const apply = await cli(emu, ['apply', '--policies', tree]);
  expect(apply.code).toBe(0);
  const global = await stored('policies/policy');
  expect(global).toContain('@("Tom & Jerry")');
  expect(global).toContain('@("Tom &amp; Jerry")');
  // `&#97;` is a reference to "a"; `&amp;#97;` the five characters &#97; in the C# string.
  expect(global).toContain('@("a" + "&#97;")');
  expect(await stored('apis/raw/policies/policy')).toContain('@(1 < 2 && "a&amp;b" == "a&amp;b")');
  const again = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode']);
  expect([again.code, again.stdout]).toEqual([0, expect.stringContaining('No changes.')]);
});

test('@("Tom &amp;amp; Jerry") against a live @("Tom &amp; Jerry") is an update, and lint says what the file holds', async () => {
  emu = await startEmulator({ seedDir: makeTree({ 'policy.xml': policy(header('x', '@("Tom &amp; Jerry")')) }) });
  const tree = makeTree({ 'policy.xml': policy(header('x', '@("Tom &amp;amp; Jerry")')) });
  const plan = await cli(emu, ['plan', '--policies', tree, '--format', 'json']);
  const changes = JSON.parse(plan.stdout).changes.filter((c: { action: string }) => c.action !== 'noop');
  expect(changes.map((c: { address: string; action: string }) => [c.action, c.address])).toEqual([['update', 'policies/policy']]);
  const lint = runCli(['lint', '--policies', tree]);
  expect(lint.stdout).toMatch(/double-escaped-expression/);
  expect(lint.stdout).toContain('the 5 characters "&amp;" in C#');
});
