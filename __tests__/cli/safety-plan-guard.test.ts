/**
 * Issue 13, "Safe by default", the plan's part, as users (and a careless or hostile hand) run it:
 * the bundled CLI and the bundled action in their own processes, against the emulator over HTTPS.
 * What is asserted is the exit code, what is printed, the PR comment GitHub received, and what ARM
 * ended up holding and was asked to write (the emulator's state and request log).
 *
 * - Plans with errors fail, everywhere (CLI exit 1; the action's check fails, comment still posted).
 * - The wrong folder never deletes an instance (a tree one level too high, an empty tree; max-deletes).
 * - A saved plan is applied exactly as reviewed, or not at all (content, diff, ETag, tool version,
 *   a removed change, hashes rewritten but not the diff).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { sealPlan } from '../../src/plan/integrity.js';
import { admin, cliAgainst as cli, targetInputs, armWrites } from '../helpers/emulator.js';
import { ROOT } from '../helpers/run.js';
import { runActionAsync } from '../helpers/runner.js';
import { edit, makeTree, policy, sampleCopy } from '../helpers/tree.js';

type LogEntry = { method: string; path: string; status: number };
type State = { resources: Record<string, { value: unknown; etag: string }> };

const ORDERS = 'apis/orders/policies/policy';
const CHAT = 'apis/chat/policies/policy';
const FIXTURES = join(ROOT, '__tests__', 'fixtures', 'github');
const REPO = 'Codertocat/Hello-World';

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'policies') });
});
afterEach(async () => {
  await emu?.close();
});

const state = () => admin(emu, 'GET', 'state') as Promise<State>;
const values = (s: State) => Object.fromEntries(Object.entries(s.resources).map(([k, v]) => [k, v.value]));
const log = async () => (await admin(emu, 'GET', 'requests')).log as LogEntry[];
const writesSince = async (n: number) => armWrites((await log()).slice(n));

const header = (name: string) => `<base />\n        <set-header name="${name}" exists-action="override"><value>1</value></set-header>`;

/** Markdown as a reader sees it: text from the tree and from live is backslash-escaped in the summary (render/escape.ts). */
const unescapeMd = (md: string) => md.replace(/\\([\\`*_{}[\]()#+!|~])/g, '$1');

describe('plans with errors fail, everywhere', () => {
  test('CLI: a plan with a missing fragment exits 1 with or without --detailed-exitcode, and its closing line says how many errors stop it', async () => {
    const tree = sampleCopy();
    edit(tree, 'apis/orders/policy.xml', '<base />', '<base />\n        <include-fragment fragment-id="nowhere" />');
    const plain = await cli(emu, ['plan', '--policies', tree]);
    expect(plain.code).toBe(1);
    expect(plain.stdout).toMatch(/apis\/orders\/policy\.xml:\d+:\d+: error: include-fragment names fragment "nowhere"/);
    expect(plain.stdout).toMatch(/^Plan: 0 to create, 1 to update, 0 to delete, \d+ unchanged; 1 error stops it: apply would refuse it\.$/m);
    const detailed = await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode']);
    expect(detailed.code).toBe(1);
    const json = await cli(emu, ['plan', '--policies', tree, '--format', 'json', '--detailed-exitcode']);
    expect(json.code).toBe(1);
    expect(json.stderr).toContain('1 error(s) stop this plan: apply would refuse it');
    expect(JSON.parse(json.stdout).problems[0].rule).toBe('missing-fragment');
    const markdown = await cli(emu, ['plan', '--policies', tree, '--format', 'markdown']);
    expect(markdown.code).toBe(1);
    expect(markdown.stdout).toMatch(/\*\*Plan:\*\* 0 to create, 1 to update, 0 to delete, \d+ unchanged; 1 error stops it: apply would refuse it/);
    // Without the error the same change plans with 2 (changes), as before.
    edit(tree, 'apis/orders/policy.xml', '<include-fragment fragment-id="nowhere" />', '<include-fragment fragment-id="correlation" />');
    expect((await cli(emu, ['plan', '--policies', tree, '--detailed-exitcode'])).code).toBe(2);
  });

  test('CLI: an error that leaves nothing to change (a refused privileged role) still fails plan and apply', async () => {
    const tree = sampleCopy();
    const sub = emu.ready.subscriptionId;
    writeFileSync(
      join(tree, 'identity.yaml'),
      readFileSync(join(tree, 'identity.yaml'), 'utf8') + `  - identity: system\n    role: Owner\n    scope: /subscriptions/${sub}/resourceGroups/rg-integration\n`,
    );
    const plan = await cli(emu, ['plan', '--policies', tree]);
    expect(plan.code).toBe(1);
    expect(plan.stdout).toMatch(/identity\.yaml:\d+:\d+: error: role "Owner" is privileged/);
    expect(plan.stdout).not.toContain('No changes.');
    expect(plan.stdout).toMatch(/; 1 error stops it: apply would refuse it\.$/m);
    const before = (await log()).length;
    const apply = await cli(emu, ['apply', '--policies', tree]);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain('problem(s) that stop it');
    expect(await writesSince(before)).toEqual([]);
  });

  test('action: a pull-request plan with an error fails the step, and still posts the comment and the summary with the problem', async () => {
    const tree = sampleCopy();
    edit(tree, 'apis/orders/policy.xml', '<base />', '<base />\n        <include-fragment fragment-id="nowhere" />');
    const event = join(mkdtempSync(join(tmpdir(), 'apim-policy-event-')), 'event.json');
    writeFileSync(event, readFileSync(join(FIXTURES, 'pull_request.opened.json')));
    const env = {
      ...emu.ready.env,
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'pull_request',
      GITHUB_EVENT_PATH: event,
      GITHUB_SHA: 'a'.repeat(40),
      GITHUB_REF: 'refs/pull/2/merge',
      GITHUB_REPOSITORY: REPO,
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_RUN_ID: '4242',
      GITHUB_WORKSPACE: tree,
    };
    const r = await runActionAsync({ ...targetInputs(emu), 'policies-path': tree, 'github-token': 'ghs_runnerTokenForTests' }, env);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^::error::1 error\(s\) stop this plan: apply would refuse it\. First: .*apis\/orders\/policy\.xml:\d+:\d+ include-fragment names fragment "nowhere"/m);
    expect(r.outputs['has-changes']).toBe('true');
    const comments = (await admin(emu, 'GET', 'github/comments')).comments as Array<{ body: string; issueNumber: number }>;
    expect(comments).toHaveLength(1);
    expect(comments[0]!.issueNumber).toBe(2);
    expect(comments[0]!.body).toMatch(/\*\*Plan:\*\* 0 to create, 1 to update, 0 to delete, \d+ unchanged; 1 error stops it: apply would refuse it/);
    expect(comments[0]!.body).toContain('include-fragment names fragment');
    expect(r.summary).toContain('1 error stops it: apply would refuse it');
    // The failure heads the summary, above the plan it is about.
    expect(unescapeMd(r.summary)).toMatch(/^> \[!CAUTION\]\n> 1 error\(s\) stop this plan: apply would refuse it/);
    const saved = JSON.parse(readFileSync(r.outputs['plan-file']!, 'utf8'));
    expect(r.summary).toContain(`Plan file \`${saved.integrity.slice(0, 16)}\``);
    expect(r.outputs['comment-url']).toMatch(/#issuecomment-\d+$/);
  });
});

describe('the wrong folder never deletes an instance', () => {
  test('--policies one level too high: plan and apply stop with "did you mean", no Azure call, nothing written', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'apim-policy-repo-'));
    cpSync(join(ROOT, 'policies'), join(repo, 'policies'), { recursive: true });
    const before = await state();
    const plan = await cli(emu, ['plan', '--policies', repo]);
    expect(plan.code).toBe(1);
    expect(plan.stderr).toContain(`did you mean \`${join(repo, 'policies')}\`?`);
    expect(plan.stderr).toContain('nothing was planned or written');
    const apply = await cli(emu, ['apply', '--policies', repo, '--allow-deletes', '--max-deletes', '-1']);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain(`did you mean \`${join(repo, 'policies')}\`?`);
    expect((await log()).filter((e) => /^\/subscriptions\//i.test(e.path))).toEqual([]);
    expect(values(await state())).toEqual(values(before));

    // One level too low: the parent is named.
    const low = await cli(emu, ['plan', '--policies', join(repo, 'policies', 'apis')]);
    expect(low.code).toBe(1);
    expect(low.stderr).toContain(`did you mean \`${join(repo, 'policies')}\`?`);
  });

  test('the action: policies-path one level too high fails with "did you mean", and a push with allow-deletes writes nothing', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'apim-policy-repo-'));
    cpSync(join(ROOT, 'policies'), join(repo, 'policies'), { recursive: true });
    const before = await state();
    const env = {
      ...emu.ready.env,
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: 'push',
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: 'b'.repeat(40),
      GITHUB_REPOSITORY: 'octo-org/octo-repo',
      GITHUB_WORKSPACE: repo,
    };
    const r = await runActionAsync({ ...targetInputs(emu), 'policies-path': repo, mode: 'apply', 'allow-deletes': 'true', 'max-deletes': '-1' }, env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`did you mean \`${join(repo, 'policies')}\`?`);
    expect(unescapeMd(r.summary)).toContain(`did you mean \`${join(repo, 'policies')}\`?`);
    expect(values(await state())).toEqual(values(before));
    expect(await writesSince(0)).toEqual([]);
  });

  test('a tree with no policy at all while live has policies: the plan fails, plans no delete, and apply with --allow-deletes writes nothing', async () => {
    const empty = makeTree({ 'README.md': '# nothing here yet\n' });
    const before = await state();
    const plan = await cli(emu, ['plan', '--policies', empty, '--format', 'json']);
    expect(plan.code).toBe(1);
    const saved = JSON.parse(plan.stdout);
    expect(saved.problems[0]).toMatchObject({ severity: 'error', rule: 'policies-root', file: empty });
    expect(saved.problems[0].message).toMatch(/has no policy to deploy, while the instance has 7 \(policies and fragments\): this plan would delete every one of them/);
    expect(saved.changes.filter((c: { action: string }) => c.action === 'delete')).toEqual([]);
    expect(saved.summary.delete).toBe(0);
    const apply = await cli(emu, ['apply', '--policies', empty, '--allow-deletes', '--max-deletes', '-1']);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain('has no policy to deploy');
    expect(values(await state())).toEqual(values(before));
    expect(await writesSince(0)).toEqual([]);
  });

  test('max-deletes: a plan deleting more than 10 is refused even with --allow-deletes; --max-deletes raises the limit', async () => {
    for (let i = 0; i < 11; i++) await admin(emu, 'POST', 'edit', { address: `apis/old-${i}/policies/policy`, value: policy() });
    const before = await state();
    const n = (await log()).length;
    const shown = await cli(emu, ['plan', '--policies', 'policies']);
    expect(shown.stdout).toContain('That is more than max-deletes allows by default (10): apply refuses it unless --max-deletes (input max-deletes) is raised to 11.');
    const refused = await cli(emu, ['apply', '--policies', 'policies', '--allow-deletes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('this plan deletes 11 resources (11 policies), more than max-deletes allows (10); nothing was written');
    expect(refused.stderr).toContain('--max-deletes 11 (action input max-deletes: 11), or -1 for no limit');
    expect(await writesSince(n)).toEqual([]);
    expect(values(await state())).toEqual(values(before));
    // Deletes not allowed are not made, so they do not count.
    const kept = await cli(emu, ['apply', '--policies', 'policies']);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain('11 delete(s) in the plan were not applied');
    const bad = await cli(emu, ['apply', '--policies', 'policies', '--max-deletes', 'lots']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('--max-deletes must be a whole number');
    const raised = await cli(emu, ['apply', '--policies', 'policies', '--allow-deletes', '--max-deletes', '11']);
    expect(raised.code).toBe(0);
    expect(raised.stdout).toContain('Apply complete: 0 created, 0 updated, 11 deleted.');
  });

  test('max-deletes in the action: a saved plan with deletes over the input is refused at apply', async () => {
    await admin(emu, 'POST', 'edit', { address: 'apis/old-0/policies/policy', value: policy() });
    await admin(emu, 'POST', 'edit', { address: 'apis/old-1/policies/policy', value: policy() });
    const env = (event: string) => ({
      ...emu.ready.env,
      GITHUB_ACTIONS: 'true',
      GITHUB_EVENT_NAME: event,
      GITHUB_REF: 'refs/heads/main',
      GITHUB_SHA: 'c'.repeat(40),
      GITHUB_REPOSITORY: 'octo-org/octo-repo',
    });
    const planned = await runActionAsync({ ...targetInputs(emu), 'policies-path': 'policies' }, env('pull_request'));
    expect(planned.code).toBe(0);
    const before = await state();
    const n = (await log()).length;
    const r = await runActionAsync({ ...targetInputs(emu), 'plan-file': planned.outputs['plan-file']!, 'allow-deletes': 'true', 'max-deletes': '1' }, env('push'));
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('::error::this plan deletes 2 resources (2 policies), more than max-deletes allows (1)');
    expect(await writesSince(n)).toEqual([]);
    expect(values(await state())).toEqual(values(before));
  });
});

describe('a saved plan is applied exactly as reviewed, or not at all', () => {
  /** A plan file with two updates (orders, chat), as plan --out wrote it. */
  async function savedPlan(): Promise<{ file: string; plan: any }> {
    const tree = sampleCopy();
    edit(tree, 'apis/orders/policy.xml', '<base />', header('X-Reviewed'));
    edit(tree, 'apis/chat/policy.xml', '<base />', header('X-Chat'));
    const file = join(mkdtempSync(join(tmpdir(), 'apim-policy-saved-')), 'plan.json');
    const r = await cli(emu, ['plan', '--policies', tree, '--out', file], { GITHUB_SHA: 'd'.repeat(40) });
    expect(r.code).toBe(0);
    const plan = JSON.parse(readFileSync(file, 'utf8'));
    expect(
      plan.changes
        .filter((c: any) => c.action !== 'noop')
        .map((c: any) => c.address)
        .sort(),
    ).toEqual([CHAT, ORDERS]);
    expect(plan.tool).toEqual({ name: 'apim-policy-deploy', version: expect.any(String) });
    expect(plan.commit).toBe('d'.repeat(40));
    expect(plan.integrity).toMatch(/^[0-9a-f]{64}$/);
    for (const c of plan.changes) expect(c.hashes).toEqual({ content: expect.stringMatching(/^[0-9a-f]{64}$/), diff: expect.stringMatching(/^[0-9a-f]{64}$/) });
    return { file, plan };
  }

  /** Writes the edited plan, applies it, and checks that nothing was written. */
  async function applyEdited(file: string, plan: any): Promise<{ code: number; stderr: string; stdout: string }> {
    const edited = file.replace(/\.json$/, '-edited.json');
    writeFileSync(edited, JSON.stringify(plan, null, 2));
    const before = await state();
    const n = (await log()).length;
    const r = await cli(emu, ['apply', '--plan', edited]);
    expect(r.code).toBe(1);
    expect(await writesSince(n)).toEqual([]);
    expect(values(await state())).toEqual(values(before));
    return r;
  }

  const change = (plan: any, address: string) => plan.changes.find((c: any) => c.address === address);

  test('the untouched plan applies', async () => {
    const { file, plan } = await savedPlan();
    const r = await cli(emu, ['apply', '--plan', file]);
    expect(r.code).toBe(0);
    // The line a reviewer compares with the plan job's: the plan's own hash, when and for what it was made.
    expect(r.stdout).toContain(`Plan ${plan.integrity.slice(0, 16)}, made ${plan.createdAt} for commit dddddddddddd by apim-policy-deploy ${plan.tool.version}`);
    expect(r.stdout).toContain('Apply complete: 0 created, 2 updated, 0 deleted.');
  });

  test('content edited by hand (hashes kept) is refused, naming the address, before any Azure call', async () => {
    const { file, plan } = await savedPlan();
    const orders = change(plan, ORDERS);
    orders.desired.xml = orders.desired.xml.replace('X-Reviewed', 'X-Sneaked-In');
    const n = (await log()).length;
    const r = await applyEdited(file, plan);
    expect(r.stderr).toContain(`${ORDERS}: its content in the plan is not what was planned`);
    expect(r.stderr).toContain('nothing was written');
    expect(r.stderr).not.toContain(CHAT);
    expect((await log()).slice(n).filter((e) => /^\/subscriptions\//i.test(e.path))).toEqual([]);
  });

  test('a formatting-only edit of the content (same canonical form) is refused too: the exact bytes are hashed', async () => {
    const { file, plan } = await savedPlan();
    change(plan, ORDERS).desired.xml = change(plan, ORDERS).desired.xml.replace(/\n/g, '\r\n');
    const r = await applyEdited(file, plan);
    expect(r.stderr).toContain(`${ORDERS}: its entry in the plan was edited after plan wrote it`);
  });

  test('the diff edited (to hide a line) is refused, naming the address', async () => {
    const { file, plan } = await savedPlan();
    const chat = change(plan, CHAT);
    chat.diff = chat.diff
      .split('\n')
      .filter((l: string) => !l.includes('X-Chat'))
      .join('\n');
    const r = await applyEdited(file, plan);
    expect(r.stderr).toContain(`${CHAT}: its diff in the plan is not the one plan wrote`);
  });

  test('a removed live ETag is refused: no write without If-Match', async () => {
    const { file, plan } = await savedPlan();
    delete change(plan, ORDERS).live.etag;
    const r = await applyEdited(file, plan);
    expect(r.stderr).toContain(`${ORDERS}: the plan has no ETag for the live resource`);
  });

  test('a retargeted change (another address) is refused', async () => {
    const { file, plan } = await savedPlan();
    change(plan, ORDERS).address = 'policies/policy';
    const r = await applyEdited(file, plan);
    expect(r.stderr).toContain('policies/policy: its entry in the plan was edited after plan wrote it');
  });

  test('a plan from another tool version is refused with both versions named', async () => {
    const { file, plan } = await savedPlan();
    const ours = plan.tool.version;
    plan.tool.version = '0.0.9';
    const r = await applyEdited(file, plan);
    expect(r.stderr).toContain(`this plan was made by apim-policy-deploy 0.0.9; this is apim-policy-deploy ${ours}: plan again with this version`);
  });

  test('a plan of the old format (no hashes) is refused with what to do', async () => {
    const { file, plan } = await savedPlan();
    plan.formatVersion = 1;
    const r = await applyEdited(file, plan);
    expect(r.stderr).toContain('is a plan file of format version 1, made by an earlier version without the hashes apply now checks');
    expect(r.stderr).toContain('plan again with this version');
  });

  test('a change removed from the plan (summary fixed up) is refused', async () => {
    const { file, plan } = await savedPlan();
    plan.changes = plan.changes.filter((c: any) => c.address !== CHAT);
    plan.summary.update = 1;
    const r = await applyEdited(file, plan);
    expect(r.stderr).toContain('the plan was edited after plan wrote it: a change was added, removed or reordered');
  });

  test('content edited and every hash rewritten, the diff left as reviewed: apply derives the diff again and refuses', async () => {
    const { file, plan } = await savedPlan();
    const orders = change(plan, ORDERS);
    orders.desired.xml = orders.desired.xml.replace('X-Reviewed', 'X-Sneaked-In');
    // What someone who knows the format does: the canonical hash, the change's hashes, the plan's.
    const { sha256 } = await import('../../src/plan/policies.js');
    const { canonicalize, parsePolicyDocument } = await import('../../src/policy-xml/index.js');
    orders.desired.sha256 = sha256(canonicalize(parsePolicyDocument(orders.desired.xml, { file: ORDERS, expect: 'policies' })));
    sealPlan(plan);
    const r = await applyEdited(file, plan);
    expect(r.stderr).toContain(`${ORDERS}: its diff does not match its content and what is live`);
    expect(r.stderr).toContain('nothing was written');
  });

  test('an address that would climb in a URL (apis/..), every hash rewritten, is refused before any Azure call', async () => {
    const { file, plan } = await savedPlan();
    change(plan, ORDERS).address = 'apis/../policies/policy';
    sealPlan(plan);
    const n = (await log()).length;
    const r = await applyEdited(file, plan);
    expect(r.stderr).toContain('a change\'s address "apis/../policies/policy" segment ".." is ".."');
    expect((await log()).slice(n).filter((e) => /^\/subscriptions\//i.test(e.path))).toEqual([]);
  });

  test('a --plan that is not a regular file (a FIFO) is refused at once, naming it', async () => {
    const fifo = join(mkdtempSync(join(tmpdir(), 'apim-policy-fifo-')), 'plan.json');
    execFileSync('mkfifo', [fifo]);
    const n = (await log()).length;
    const r = await cli(emu, ['apply', '--plan', fifo]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${fifo}: is a FIFO (named pipe), not a regular file`);
    expect((await log()).length).toBe(n);
  });
});
