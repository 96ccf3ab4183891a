/**
 * The bundled action end to end, as a runner runs it: `node dist/index.js` with INPUT_*, the
 * event payload in GITHUB_EVENT_PATH (real webhook examples, adjusted: fixtures/github), and
 * GITHUB_API_URL on the emulator's GitHub fake. What is asserted is what the runner and GitHub
 * would see: the comments GitHub received, the output and summary files, the log's workflow
 * commands, the SARIF file, and the emulator's request log.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, raw, targetInputs } from '../helpers/emulator.js';
import { ROOT } from '../helpers/run.js';
import { runActionAsync } from '../helpers/runner.js';
import { makeTree, policy } from '../helpers/tree.js';

const FIXTURES = join(ROOT, '__tests__', 'fixtures', 'github');
const REPO = 'Codertocat/Hello-World';
const RUN_URL = `https://github.com/${REPO}/actions/runs/4242`;
const PR_NUMBER = 2;

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'demo', 'live-snapshot') });
});
afterEach(async () => {
  await emu?.close();
});

const target = () => ({
  ...targetInputs(emu),
  'github-token': 'ghs_runnerTokenForTests',
});

/** Writes an event payload (optionally adjusted) where the runner would, and returns its path. */
function eventFile(name: string, adjust: (payload: any) => void = () => {}): string {
  const payload = JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
  adjust(payload);
  const path = join(mkdtempSync(join(tmpdir(), 'apim-policy-event-')), 'event.json');
  writeFileSync(path, JSON.stringify(payload));
  return path;
}

function runner(eventName: string, eventPath: string, sha: string, ref: string) {
  return {
    ...emu.ready.env,
    GITHUB_ACTIONS: 'true',
    GITHUB_EVENT_NAME: eventName,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_SHA: sha,
    GITHUB_REF: ref,
    GITHUB_REPOSITORY: REPO,
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_RUN_ID: '4242',
    GITHUB_WORKSPACE: ROOT,
  };
}

const prRun = (event: string, sha = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa') => runner('pull_request', event, sha, `refs/pull/${PR_NUMBER}/merge`);

interface Comment {
  id: number;
  issueNumber: number;
  body: string;
}
const comments = async (): Promise<Comment[]> => (await admin(emu, 'GET', 'github/comments')).comments;

test('a pull request gets one sticky plan comment; the next push updates it; another environment gets its own', async () => {
  // 120 comments from people before ours: finding the marked one again needs the second page.
  for (let i = 0; i < 120; i++) {
    const r = await raw(emu, 'POST', `${emu.ready.env.GITHUB_API_URL}/repos/${REPO}/issues/${PR_NUMBER}/comments`, {
      headers: { authorization: 'token ghp_reviewer', 'content-type': 'application/json' },
      body: JSON.stringify({ body: i === 7 ? 'quoting the bot:\n> <!-- apim-policy-deploy:plan:' + emu.ready.serviceName + ' -->' : `review note ${i}` }),
    });
    expect(r.status).toBe(201);
  }

  const opened = await runActionAsync({ ...target() }, prRun(eventFile('pull_request.opened.json')));
  expect(opened.stderr).toBe('');
  expect(opened.code).toBe(0);
  const plan = JSON.parse(readFileSync(opened.outputs['plan-file']!, 'utf8'));
  const pending = plan.changes.filter((c: any) => c.action !== 'noop').map((c: any) => c.address);
  expect(pending).toEqual(expect.arrayContaining(['apis/chat/policies/policy']));

  let all = await comments();
  expect(all).toHaveLength(121);
  const ours = all.filter((c) => c.body.startsWith('<!-- apim-policy-deploy:plan:'));
  expect(ours).toHaveLength(1);
  const first = ours[0]!;
  expect(first.issueNumber).toBe(PR_NUMBER);
  for (const address of pending) expect(first.body).toContain(`<code>${address}</code>`);
  expect(first.body).toContain('`ec26c3e57ca3`'); // the head commit of the pull request
  expect(first.body).toContain(`[workflow run](${RUN_URL})`);
  expect(first.body).toContain('**Plan:** 6 to create, 5 to update, 1 to delete');
  expect(opened.outputs['comment-url']).toBe(`https://github.com/${REPO}/pull/${PR_NUMBER}#issuecomment-${first.id}`);
  expect(opened.summary).toContain(`Plan posted on [pull request #${PR_NUMBER}](${opened.outputs['comment-url']})`);

  const synced = await runActionAsync({ ...target() }, prRun(eventFile('pull_request.synchronize.json'), 'b'.repeat(40)));
  expect(synced.code).toBe(0);
  all = await comments();
  expect(all).toHaveLength(121);
  const updated = all.filter((c) => c.body.startsWith('<!-- apim-policy-deploy:plan:'));
  expect(updated.map((c) => c.id)).toEqual([first.id]);
  expect(updated[0]!.body).toContain('`5b2f9c0d1e2a`');
  expect(synced.outputs['comment-url']).toBe(opened.outputs['comment-url']);

  const prod = await runActionAsync({ ...target(), environment: 'production' }, prRun(eventFile('pull_request.synchronize.json')));
  expect(prod.code).toBe(0);
  all = await comments();
  expect(all).toHaveLength(122);
  expect(all.filter((c) => c.body.startsWith('<!-- apim-policy-deploy:plan:production -->'))).toHaveLength(1);
  expect(prod.outputs['comment-url']).not.toBe(opened.outputs['comment-url']);
});

test('a pull request from a fork is linted only: no Azure call, no comment, exit 0, the reason in the summary', async () => {
  const event = eventFile('pull_request.opened.json', (p) => {
    p.pull_request.head.repo.full_name = 'forker/Hello-World';
    p.pull_request.head.repo.fork = true;
    p.pull_request.head.label = 'forker:changes';
  });
  const sarif = join(mkdtempSync(join(tmpdir(), 'apim-policy-sarif-')), 'lint.sarif');
  // A fork's run gets no secrets: the sample's {#ORDERS_API_KEY#} has no value, and lint needs none.
  const r = await runActionAsync({ ...target(), 'sarif-file': sarif }, { ...prRun(event), ORDERS_API_KEY: undefined });
  expect(r.code).toBe(0);
  expect(r.summary).toContain('comes from a fork');
  expect(r.summary).toContain('**Lint:** 0 errors');
  expect(r.outputs['has-changes']).toBeUndefined();
  const log = await admin(emu, 'GET', 'requests');
  expect(log.total).toBe(0);
  expect(log.tokenRequests).toEqual([]);
  expect(await comments()).toHaveLength(0);
  expect(JSON.parse(readFileSync(sarif, 'utf8')).runs[0].results).toEqual([]);
});

test('a push to the default branch applies, and the result goes to the merged pull request', async () => {
  const push = eventFile('push.json');
  const sha = JSON.parse(readFileSync(push, 'utf8')).after as string;
  await admin(emu, 'POST', 'github/pulls', {
    sha,
    pulls: [{ number: PR_NUMBER, state: 'closed', merged_at: '2026-11-24T10:00:00Z', merge_commit_sha: sha, html_url: `https://github.com/${REPO}/pull/${PR_NUMBER}` }],
  });
  const r = await runActionAsync({ ...target(), 'allow-deletes': 'true' }, runner('push', push, sha, 'refs/heads/main'));
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.summary).toContain('**Applied:** 6 created, 5 updated, 1 deleted.');
  expect(r.outputs['snapshot-file']).toMatch(/apim-policy-snapshot-.*\.json$/);
  const all = await comments();
  expect(all).toHaveLength(1);
  expect(all[0]!.issueNumber).toBe(PR_NUMBER);
  expect(all[0]!.body.startsWith(`<!-- apim-policy-deploy:apply:${emu.ready.serviceName} -->`)).toBe(true);
  expect(all[0]!.body).toContain('**Applied:** 6 created, 5 updated, 1 deleted.');
  expect(all[0]!.body).toContain('- update `apis/chat/policies/policy`');
  expect(all[0]!.body).toContain(`\`${sha.slice(0, 12)}\``);
  expect(r.outputs['comment-url']).toBe(`https://github.com/${REPO}/pull/${PR_NUMBER}#issuecomment-${all[0]!.id}`);

  // Live now matches: a drift run finds nothing. A push to another branch only plans.
  const drift = await runActionAsync({ ...target(), 'fail-on-drift': 'true' }, runner('schedule', eventFile('push.json'), sha, 'refs/heads/main'));
  expect(drift.code).toBe(0);
  expect(drift.outputs['has-changes']).toBe('false');
  const writesBefore = (await admin(emu, 'GET', 'requests')).log.filter((e: any) => e.method === 'PUT' || e.method === 'DELETE').length;
  const feature = await runActionAsync(
    { ...target() },
    runner(
      'push',
      eventFile('push.json', (p) => (p.ref = 'refs/heads/feature')),
      sha,
      'refs/heads/feature',
    ),
  );
  expect(feature.code).toBe(0);
  expect(feature.stdout).toContain('is not the default branch (main), so this run plans and does not apply');
  expect((await admin(emu, 'GET', 'requests')).log.filter((e: any) => e.method === 'PUT' || e.method === 'DELETE')).toHaveLength(writesBefore);
});

test('an over-long plan: the comment stays under the limit and links to the full plan', async () => {
  const big = (i: number, v: string) =>
    policy(Array.from({ length: 40 }, (_, j) => `<set-header name="x-api-${i}-h${j}" exists-action="override"><value>${v}-${j}</value></set-header>`).join('\n        '));
  const desired: Record<string, string> = {};
  const live: Record<string, string> = {};
  for (let i = 0; i < 60; i++) {
    desired[`apis/api-${i}/policy.xml`] = big(i, 'new');
    live[`apis/api-${i}/policy.xml`] = big(i, 'old');
  }
  const r = await runActionAsync({ 'policies-path': makeTree(desired), 'live-snapshot': makeTree(live), 'github-token': 'ghs_x' }, prRun(eventFile('pull_request.opened.json')));
  expect(r.code).toBe(0);
  const [c] = await comments();
  expect(c!.body.length).toBeLessThan(60_000);
  expect(c!.body).toContain('**Plan:** 0 to create, 60 to update, 0 to delete, 0 unchanged');
  expect(c!.body).toMatch(new RegExp(`_\\d+ diff\\(s\\) not shown here to stay within GitHub's comment limit: see the \\[full plan\\]\\(${RUN_URL}\\)\\._`));
  // Every resource is still named in the table, and the job summary has every diff.
  for (let i = 0; i < 60; i++) expect(c!.body).toContain(`\`apis/api-${i}/policies/policy\``);
  expect(r.summary.match(/<details><summary>~ update/g)).toHaveLength(60);
});

test('lint errors: annotations within the per-step caps, all findings in the summary and SARIF, the PR comment says why there is no plan', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 14; i++) files[`apis/broken-${String(i).padStart(2, '0')}/policy.xml`] = '<policies>\n  <inbound>\n    <base>\n  </inbound>\n</policies>\n';
  const tree = makeTree(files);
  const sarif = join(tree, 'out', 'lint.sarif');
  const r = await runActionAsync({ ...target(), 'policies-path': tree, 'sarif-file': sarif }, { ...prRun(eventFile('pull_request.opened.json')), GITHUB_WORKSPACE: tree });
  expect(r.code).toBe(1);
  const errors = r.stdout.split('\n').filter((l) => l.startsWith('::error'));
  expect(errors).toHaveLength(10);
  expect(errors.filter((l) => l.includes('file=apis/broken-'))).toHaveLength(8);
  expect(errors).toContainEqual(expect.stringMatching(/^::error title=6 more::…and 6 more error\(s\) not annotated/));
  expect(errors[errors.length - 1]).toMatch(/^::error::14 error\(s\) in .*nothing was planned or written/);
  for (let i = 0; i < 14; i++) expect(r.summary).toContain(`apis/broken-${String(i).padStart(2, '0')}/policy.xml:4:3`);

  const results = JSON.parse(readFileSync(sarif, 'utf8')).runs[0].results;
  expect(results).toHaveLength(14);
  expect(results[0].locations[0].physicalLocation).toEqual({
    artifactLocation: { uri: 'apis/broken-00/policy.xml', uriBaseId: '%SRCROOT%' },
    region: { startLine: 4, startColumn: 3 },
  });
  expect(results[0].level).toBe('error');

  const [c] = await comments();
  expect(c!.body).toContain('**Lint:** 14 errors, 0 warnings; nothing was planned or written');
  expect((await admin(emu, 'GET', 'requests')).log.filter((e: any) => !e.path.startsWith('/github-api'))).toHaveLength(0);
});

test('a token that cannot write comments: the plan still lands in the summary, a warning says which permission is missing', async () => {
  const r = await runActionAsync({ ...target(), 'github-token': 'ghs_readonly_token' }, prRun(eventFile('pull_request.opened.json')));
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(
    /::warning::could not post the plan comment on pull request #2: GitHub answered 403 \(Resource not accessible by integration.*\)\. Give the job `permissions: pull-requests: write`/,
  );
  expect(r.outputs['comment-url']).toBeUndefined();
  expect(r.outputs['has-changes']).toBe('true');
  expect(r.summary).toContain('**Plan:** 6 to create, 5 to update, 1 to delete');
  expect(await comments()).toHaveLength(0);
});

test('no changes: the comment is one short line', async () => {
  const tree = makeTree({ 'apis/a/policy.xml': policy() });
  const r = await runActionAsync({ 'policies-path': tree, 'live-snapshot': tree, 'github-token': 'ghs_x', environment: 'dev' }, prRun(eventFile('pull_request.opened.json')));
  expect(r.code).toBe(0);
  expect(r.outputs['has-changes']).toBe('false');
  const [c] = await comments();
  expect(c!.body.trim().split('\n')).toEqual([
    '<!-- apim-policy-deploy:plan:dev -->',
    '### APIM policy plan · dev',
    '',
    `**No changes.** Live APIM matches the policies tree (1 resource) · commit \`ec26c3e57ca3\` · [workflow run](${RUN_URL}).`,
  ]);
});
