/**
 * Files the tool is pointed at are looked at before they are read (issue 13, "Files: symlinks,
 * devices, sizes"): the bundled CLI in its own process, on trees with a symbolic link out of the
 * tree, a symbolically linked policy.xml inside it, a FIFO, a link to /dev/zero and 3 GB sparse
 * files. Each run ends quickly with an error naming the file; nothing outside the tree is read
 * or quoted, and fmt never writes through a symbolic link.
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runCliAsync } from '../helpers/run.js';
import { makeTree, policy } from '../helpers/tree.js';

const SECRET = 'TOP-SECRET-CONTENT-OF-A-FILE-OUTSIDE-THE-TREE';
/** A valid, unformatted policy holding SECRET: were it read, fmt would rewrite it and plan would show it. */
const secretPolicy = `<policies><inbound><set-header name="x" exists-action="override"><value>${SECRET}</value></set-header></inbound><backend><base /></backend><outbound><base /></outbound><on-error><base /></on-error></policies>`;

/** lint, plan against a live snapshot (with what the tree would delete) and fmt --check of one tree. */
async function runAll(tree: string) {
  const snapshot = makeTree({ 'policy.xml': policy(), 'apis/echo/policy.xml': policy('<set-header name="a" exists-action="override"><value>1</value></set-header>') });
  const [lint, plan, fmt] = await Promise.all([
    runCliAsync(['lint', '--policies', tree]),
    runCliAsync(['plan', '--policies', tree, '--live-snapshot', snapshot]),
    runCliAsync(['fmt', '--check', tree]),
  ]);
  return { lint, plan, fmt };
}

test('a symbolic link out of the tree is an error naming the link in lint, plan and fmt; the file it links to is neither read nor quoted nor written', async () => {
  const outside = makeTree({ 'secret.xml': secretPolicy });
  const tree = makeTree({ 'policy.xml': policy() });
  mkdirSync(join(tree, 'apis/echo'), { recursive: true });
  symlinkSync(join(outside, 'secret.xml'), join(tree, 'apis/echo/policy.xml'));
  const { lint, plan, fmt } = await runAll(tree);
  const link = join(tree, 'apis/echo/policy.xml');
  for (const r of [lint, plan]) {
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(`${link}:1:1: error: is a symbolic link that leads outside the tree`);
  }
  expect(fmt.code).toBe(2);
  expect(fmt.stderr).toContain(`${link}: is a symbolic link that leads outside the tree`);
  for (const r of [lint, plan, fmt]) expect(r.stdout + r.stderr).not.toContain(SECRET);
  // fmt (without --check) leaves the file it would have rewritten as it is.
  const write = await runCliAsync(['fmt', tree]);
  expect(write.code).toBe(2);
  expect(readFileSync(join(outside, 'secret.xml'), 'utf8')).toBe(secretPolicy);
}, 60000);

test('a policy.xml that is a symbolic link inside the tree is followed, not dropped (and planned as a delete); fmt never writes through it', async () => {
  const content = policy('<set-header name="a" exists-action="override"><value>1</value></set-header>');
  const tree = makeTree({ 'policy.xml': policy(), 'shared/echo.xml': content });
  mkdirSync(join(tree, 'apis/echo'), { recursive: true });
  symlinkSync('../../shared/echo.xml', join(tree, 'apis/echo/policy.xml'));
  const snapshot = makeTree({ 'policy.xml': policy(), 'apis/echo/policy.xml': content });
  const plan = await runCliAsync(['plan', '--policies', tree, '--live-snapshot', snapshot, '--detailed-exitcode']);
  expect(plan.stdout).toContain('No changes.');
  expect(plan.code).toBe(0);

  // An unformatted file behind the link: fmt formats the file itself, never the link.
  writeFileSync(join(tree, 'shared/echo.xml'), content.replace(/\n\s*/g, ''));
  const fmt = await runCliAsync(['fmt', tree]);
  expect(fmt.code).toBe(2);
  expect(fmt.stderr).toContain(`${join(tree, 'apis/echo/policy.xml')}: is a symbolic link; fmt never writes through one`);
  expect(lstatSync(join(tree, 'apis/echo/policy.xml')).isSymbolicLink()).toBe(true);
  expect(readFileSync(join(tree, 'shared/echo.xml'), 'utf8')).toBe(content.replace(/\n\s*/g, ''));

  // A symbolic link to a folder is not followed, and says so.
  symlinkSync('echo', join(tree, 'apis/echo2'));
  const lint = await runCliAsync(['lint', '--policies', tree]);
  expect(lint.code).toBe(1);
  expect(lint.stdout).toContain(`${join(tree, 'apis/echo2')}:1:1: error: is a symbolic link to a folder, which is not followed`);
}, 60000);

test('a FIFO and a link to /dev/zero are refused by name, without blocking or reading forever', async () => {
  const tree = makeTree({ 'policy.xml': policy() });
  mkdirSync(join(tree, 'apis/pipe'), { recursive: true });
  execFileSync('mkfifo', [join(tree, 'apis/pipe/policy.xml')]);
  mkdirSync(join(tree, 'apis/zero'), { recursive: true });
  symlinkSync('/dev/zero', join(tree, 'apis/zero/policy.xml'));
  const { lint, plan, fmt } = await runAll(tree);
  const fifo = join(tree, 'apis/pipe/policy.xml');
  const zero = join(tree, 'apis/zero/policy.xml');
  for (const r of [lint, plan]) {
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(`${fifo}:1:1: error: is a FIFO (named pipe), not a regular file`);
    expect(r.stdout + r.stderr).toContain(`${zero}:1:1: error: is a symbolic link that leads outside the tree`);
  }
  expect(fmt.code).toBe(2);
  expect(fmt.stderr).toContain(`${fifo}: is a FIFO (named pipe), not a regular file`);
  expect(fmt.stderr).toContain(`${zero}: is a symbolic link that leads outside the tree`);

  // identity.yaml as a FIFO, the lint configuration as /dev/zero.
  const configs = makeTree({ 'policy.xml': policy() });
  execFileSync('mkfifo', [join(configs, 'identity.yaml')]);
  symlinkSync('/dev/zero', join(configs, 'apim-policy-lint.yaml'));
  const r = await runCliAsync(['lint', '--policies', configs]);
  expect(r.code).toBe(1);
  expect(r.stdout).toContain(`${join(configs, 'identity.yaml')}:1:1: error: is a FIFO (named pipe), not a regular file`);
  expect(r.stdout).toContain(`${join(configs, 'apim-policy-lint.yaml')}:1:1: error: is a symbolic link that leads outside the tree`);
}, 60000);

test('3 GB (sparse) policy.xml, identity.yaml and environment file are refused from their size, never read', async () => {
  const GB3 = 3 * 1024 ** 3;
  const tree = makeTree({ 'policy.xml': policy(), 'apis/big/policy.xml': '', 'identity.yaml': '', 'environments/dev.yaml': '' });
  for (const f of ['apis/big/policy.xml', 'identity.yaml']) truncateSync(join(tree, f), GB3);
  const { lint, plan, fmt } = await runAll(tree);
  for (const r of [lint, plan]) {
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain(`${join(tree, 'apis/big/policy.xml')}:1:1: error: is 3072.0 MiB, over the 1.0 MiB limit for policy files`);
    expect(r.stdout + r.stderr).toContain(`${join(tree, 'identity.yaml')}:1:1: error: is 3072.0 MiB, over the 1.0 MiB limit for identity.yaml; it was not read`);
  }
  expect(fmt.code).toBe(2);
  expect(fmt.stderr).toContain(`${join(tree, 'apis/big/policy.xml')}: is 3072.0 MiB, over the 1.0 MiB limit for policy files`);

  writeFileSync(join(tree, 'identity.yaml'), 'roleAssignments: []\n');
  truncateSync(join(tree, 'environments/dev.yaml'), GB3);
  const env = await runCliAsync(['lint', '--policies', tree, '--environment', 'dev']);
  expect(env.code).toBe(1);
  expect(env.stdout).toContain(`${join(tree, 'environments/dev.yaml')}:1:1: error: is 3072.0 MiB, over the 1.0 MiB limit for environment files`);
  rmSync(tree, { recursive: true }); // sparse, but no 3 GB file is left behind
}, 60000);

test('diff of two files refuses a FIFO and an oversized file by name', async () => {
  const dir = makeTree({ 'a.xml': policy(), 'big.xml': '' });
  execFileSync('mkfifo', [join(dir, 'pipe.xml')]);
  truncateSync(join(dir, 'big.xml'), 3 * 1024 ** 3);
  const [fifo, big] = await Promise.all([runCliAsync(['diff', join(dir, 'pipe.xml'), join(dir, 'a.xml')]), runCliAsync(['diff', join(dir, 'a.xml'), join(dir, 'big.xml')])]);
  expect(fifo.code).toBe(2);
  expect(fifo.stderr).toContain(`${join(dir, 'pipe.xml')}: is a FIFO (named pipe), not a regular file`);
  expect(big.code).toBe(2);
  expect(big.stderr).toContain(`${join(dir, 'big.xml')}: is 3072.0 MiB, over the 1.0 MiB limit for policy files`);
  rmSync(dir, { recursive: true });
}, 60000);

test('a folder name that would climb or split once in a URL (%2F, %2e%2e, a backslash) is an error naming the file', async () => {
  const tree = makeTree({ 'policy.xml': policy(), 'apis/a%2F..%2Fb/policy.xml': policy(), 'apis/%2e%2e/policy.xml': policy(), 'products/p\\..\\q/policy.xml': policy() });
  const lint = await runCliAsync(['lint', '--policies', tree]);
  expect(lint.code).toBe(1);
  expect(lint.stdout).toContain(`${join(tree, 'apis/a%2F..%2Fb/policy.xml')}:1:1: error: API id "a%2F..%2Fb" contains a percent-encoded character (%XX) (ARM would reject it; rename the folder)`);
  expect(lint.stdout).toContain(`${join(tree, 'apis/%2e%2e/policy.xml')}:1:1: error: API id "%2e%2e" contains a percent-encoded character`);
  expect(lint.stdout).toContain(`error: product id "p\\\\..\\\\q" contains a path separator`);
}, 60000);
