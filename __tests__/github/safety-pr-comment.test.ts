/**
 * The PR comment cannot be hijacked or abused. The bundled action on a pull request, against the
 * emulator's GitHub fake, which attributes every comment to its token's account (`ghp_<login>` is
 * that user, the runner's `ghs_…` token is github-actions[bot]):
 * - a comment by someone else that carries our marker is left alone; the action posts its own and
 *   updates only that one on the next push;
 * - names and contents from the tree reach the comment inert: no mention, no HTML, no link, no
 *   table cell, no way out of a code fence.
 */
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, raw } from '../helpers/emulator.js';
import { ROOT } from '../helpers/run.js';
import { runActionAsync } from '../helpers/runner.js';
import { makeTree, policy } from '../helpers/tree.js';

const FIXTURES = join(ROOT, '__tests__', 'fixtures', 'github');
const REPO = 'Codertocat/Hello-World';
const PR_NUMBER = 2;
const RUNNER_TOKEN = 'ghs_runnerTokenForTests';

let emu: RunningEmulator;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'demo', 'live-snapshot') });
});
afterEach(async () => {
  await emu?.close();
});

function eventFile(name: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'apim-policy-event-')), 'event.json');
  writeFileSync(path, readFileSync(join(FIXTURES, name)));
  return path;
}

const prRun = (event: string, sha = 'a'.repeat(40)) => ({
  ...emu.ready.env,
  GITHUB_ACTIONS: 'true',
  GITHUB_EVENT_NAME: 'pull_request',
  GITHUB_EVENT_PATH: eventFile(event),
  GITHUB_SHA: sha,
  GITHUB_REF: `refs/pull/${PR_NUMBER}/merge`,
  GITHUB_REPOSITORY: REPO,
  GITHUB_SERVER_URL: 'https://github.com',
  GITHUB_RUN_ID: '4242',
  GITHUB_WORKSPACE: ROOT,
});

interface Comment {
  id: number;
  issueNumber: number;
  author: string;
  body: string;
}
const comments = async (): Promise<Comment[]> => (await admin(emu, 'GET', 'github/comments')).comments;

async function postAs(login: string, body: string): Promise<number> {
  const r = await raw(emu, 'POST', `${emu.ready.env.GITHUB_API_URL}/repos/${REPO}/issues/${PR_NUMBER}/comments`, {
    headers: { authorization: `token ghp_${login}`, 'content-type': 'application/json' },
    body: JSON.stringify({ body }),
  });
  expect(r.status).toBe(201);
  return r.body.id;
}

test('a comment by someone else carrying our marker is left alone: the action posts and then updates only its own', async () => {
  const desired = makeTree({ 'apis/a/policy.xml': policy('<set-header name="x" exists-action="override"><value>1</value></set-header>') });
  const live = makeTree({ 'apis/a/policy.xml': policy() });
  const planned = { 'policies-path': desired, 'live-snapshot': live, environment: 'dev' };
  const planted = '<!-- apim-policy-deploy:plan:dev -->\n### APIM policy plan · dev\n\n**No changes.** Live APIM matches the policies tree.';
  const malloryId = await postAs('mallory', planted);

  const first = await runActionAsync({ ...planned, 'github-token': RUNNER_TOKEN }, prRun('pull_request.opened.json'));
  expect(first.stderr).toBe('');
  expect(first.code).toBe(0);
  expect(first.stdout).toContain('github-token acts as github-actions[bot]');
  expect(first.stdout).toContain("::warning::pull request #2 has 1 comment(s) with this action's plan marker written by someone other than github-actions[bot] (mallory): left alone, not updated.");
  let all = await comments();
  expect(all).toHaveLength(2);
  expect(all.find((c) => c.id === malloryId)).toEqual({ id: malloryId, issueNumber: PR_NUMBER, author: 'mallory', body: planted });
  const ours = all.find((c) => c.id !== malloryId)!;
  expect(ours.author).toBe('github-actions[bot]');
  expect(ours.body).toContain('**Plan:** 0 to create, 1 to update, 0 to delete, 0 unchanged');
  expect(first.outputs['comment-url']).toBe(`https://github.com/${REPO}/pull/${PR_NUMBER}#issuecomment-${ours.id}`);

  // The next push updates the action's own comment; still one by github-actions[bot].
  const second = await runActionAsync({ ...planned, 'github-token': RUNNER_TOKEN }, prRun('pull_request.synchronize.json', 'b'.repeat(40)));
  expect(second.code).toBe(0);
  all = await comments();
  expect(all.map((c) => [c.id, c.author])).toEqual([
    [malloryId, 'mallory'],
    [ours.id, 'github-actions[bot]'],
  ]);
  expect(all[0]!.body).toBe(planted);
  expect(all[1]!.body).toContain('`5b2f9c0d1e2a`'); // the new head commit
  expect(second.outputs['comment-url']).toBe(first.outputs['comment-url']);

  // With a personal access token the action is that user: neither comment is its own.
  const pat = await runActionAsync({ ...planned, 'github-token': 'ghp_deploybot' }, prRun('pull_request.synchronize.json', 'b'.repeat(40)));
  expect(pat.code).toBe(0);
  expect(pat.stdout).toContain('github-token acts as deploybot');
  const again = await runActionAsync({ ...planned, 'github-token': 'ghp_deploybot' }, prRun('pull_request.synchronize.json', 'b'.repeat(40)));
  expect(again.code).toBe(0);
  all = await comments();
  expect(all.map((c) => c.author)).toEqual(['mallory', 'github-actions[bot]', 'deploybot']);
  expect(again.outputs['comment-url']).toBe(pat.outputs['comment-url']);
  expect(all[0]!.body).toBe(planted);
});

/**
 * What GitHub would treat as markup, with code taken out (fenced blocks, code spans, <code>
 * elements: GitHub shows them as they are and looks for no mention or link in them).
 */
function outsideCode(body: string): string {
  return body
    .replace(/^(`{3,})[^\n]*\n[\s\S]*?\n\1$/gm, '')
    .replace(/\\[\\`*_{}[\]()#+!|~-]/g, 'E')
    .replace(/(`+)(?!`)[\s\S]*?(?<!`)\1(?!`)/g, '')
    .replace(/<code>[\s\S]*?<\/code>/g, '');
}

/** The body shows the hostile text, but nothing in it acts. */
function expectInert(body: string): void {
  const outside = outsideCode(body);
  expect(outside).not.toMatch(/@octocat/); // a mention needs `@` right before the name
  expect(outside).not.toMatch(/<img/);
  expect(outside).not.toMatch(/\[click\]\(/);
  expect(outside).not.toMatch(/#12\b/);
  // Our own <details> are the only ones, each closed once.
  expect((outside.match(/<details>/g) ?? []).length).toBe((outside.match(/<\/details>/g) ?? []).length);
  // Every table row has the four cells of its header.
  for (const row of body.split('\n').filter((l) => l.startsWith('|'))) {
    expect(row.match(/(?<!\\)\|/g)).toHaveLength(5);
  }
}

test('names and contents from the tree reach the comment inert: no mention, HTML, link, table cell or fence break', async () => {
  const name = 'x`y @octocat [click](evil.example) a|b';
  const inbound = (line: string, end: string) =>
    `<base />\n        <set-body>@{\n    // @octocat ${line}\n    // &lt;/details&gt;&lt;img src=x&gt;\n    // [click](https://evil) a|b\n\`\`\`\n    return "${end}";\n}</set-body>`;
  const desired = makeTree({ [`apis/${name}/policy.xml`]: policy(inbound('please look', '#12 done')) });
  const live = makeTree({ [`apis/${name}/policy.xml`]: policy(inbound('old', 'old')) });
  const plan = await runActionAsync({ 'policies-path': desired, 'live-snapshot': live, 'github-token': RUNNER_TOKEN, environment: 'dev' }, prRun('pull_request.opened.json'));
  expect(plan.stderr).toBe('');
  expect(plan.code).toBe(0);

  // Lint errors quote the names and the content: a folder ARM would reject, a tag that does not close.
  const broken = makeTree({
    'apis/x @octocat <img src=x> [click](https:evil) a|b/policy.xml': policy(),
    'apis/y/policy.xml': '<policies>\n    <inbound>\n        <base />\n    </details><img src=x>\n    </inbound>\n</policies>\n',
  });
  const lint = await runActionAsync({ 'policies-path': broken, 'github-token': RUNNER_TOKEN, environment: 'lint' }, prRun('pull_request.opened.json'));
  expect(lint.code).toBe(1);

  const [planBody, lintBody] = (await comments()).map((c) => c.body);
  // The text is all there, for a reviewer to read...
  expect(planBody).toContain('| ~ update | ``apis/x`y @octocat [click](evil.example) a\\|b/policies/policy`` |');
  expect(planBody).toContain('<code>apis/x`y @octocat [click](evil.example) a|b/policies/policy</code>');
  expect(planBody).toMatch(/^````diff$/m); // longer than the ``` line in the content
  expect(planBody).toContain('+    // @octocat please look\n     // </details><img src=x>\n     // [click](https://evil) a|b\n ```\n-    return "old";');
  expect(lintBody).toContain('API id "x @\u200Doctocat &lt;img src=x&gt; \\[click\\](https:evil) a\\|b" may not contain');
  expect(lintBody).toContain('closing tag &lt;/details&gt; does not match the open &lt;inbound&gt;');
  // ...and none of it acts.
  expectInert(planBody!);
  expectInert(lintBody!);
});
