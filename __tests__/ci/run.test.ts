/**
 * The workflow of ci/run.ts in process, against a fake CI host: which mode an event leads to, that
 * a fork's pull request never reaches Azure, and how a failure is reported (the failure, the job
 * summary, the comment). Plans run against a live snapshot folder, so no Azure and no bundle.
 * What only a process shows (the runner's files, workflow commands, GitHub's API) is in the
 * action-*.test.ts process tests of dist/.
 */
import { run } from '../../src/ci/run.js';
import type { RunContext } from '../../src/model/ci-host.js';
import { fakeCiHost } from '../helpers/fake-ci-host.js';
import { makeTree, policy } from '../helpers/tree.js';

const header = (v: string) => `<set-header name="x-v" exists-action="override"><value>${v}</value></set-header>`;
const RUN_URL = 'https://github.com/o/r/actions/runs/7';
const SHA = 'c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00';

/** A tree that changes one API's policy from what the snapshot holds. */
function trees() {
  return {
    'policies-path': makeTree({ 'apis/a/policy.xml': policy(header('2')), 'apis/b/policy.xml': policy() }),
    'live-snapshot': makeTree({ 'apis/a/policy.xml': policy(header('1')), 'apis/b/policy.xml': policy() }),
  };
}

const repo = { owner: 'o', repo: 'r', sha: SHA, defaultBranch: 'main', runUrl: RUN_URL };
const pullRequest = (fromFork = false): RunContext => ({
  eventName: 'pull_request',
  ...repo,
  ref: 'refs/pull/5/merge',
  pullRequest: { number: 5, headSha: 'feed', fromFork, ...(fromFork ? { headRepo: 'someone/r' } : {}) },
});
const push = (branch: string): RunContext => ({ eventName: 'push', ...repo, ref: `refs/heads/${branch}` });
/** Inputs that name an instance: a run that reaches Azure fails on the fake host's ID token. */
const instance = { 'subscription-id': '00000000-0000-0000-0000-000000000001', 'resource-group': 'rg', 'service-name': 'apim-test', auth: 'oidc', 'tenant-id': 't', 'client-id': 'c' };

describe('mode auto', () => {
  it('plans a pull request and posts the plan as its sticky comment', async () => {
    const host = fakeCiHost(pullRequest(), trees());
    await run(host);
    expect(host.failed).toBeUndefined();
    expect(host.outputs['has-changes']).toBe('true');
    expect(JSON.parse(host.outputs.summary!)).toEqual({ create: 0, update: 1, delete: 0, unchanged: 1 });
    expect(host.comments).toHaveLength(1);
    expect(host.comments[0]).toMatchObject({ kind: 'plan', issueNumber: 5 });
    expect(host.comments[0]!.body).toContain('APIM policy plan');
    expect(host.outputs['comment-url']).toBe('https://github.com/o/r/pull/5#issuecomment-1');
    expect(host.summary).toContain('**Plan:** 0 to create, 1 to update, 0 to delete, 1 unchanged');
  });

  it('applies a push to the default branch: it goes to Azure even with a live snapshot given', async () => {
    const host = fakeCiHost(push('main'), { ...trees(), ...instance });
    await run(host);
    expect(host.failed).toBe('no ID token in a test');
    expect(host.outputs['has-changes']).toBeUndefined();
    expect(host.comments).toEqual([]);
  });

  it('plans a push to another branch, and says why it does not apply', async () => {
    const host = fakeCiHost(push('feature'), trees());
    await run(host);
    expect(host.failed).toBeUndefined();
    expect(host.log).toContainEqual({ level: 'info', line: 'mode auto: refs/heads/feature is not the default branch (main), so this run plans and does not apply.' });
    expect(host.outputs['has-changes']).toBe('true');
    expect(host.summary).toContain('APIM policy plan');
  });

  it('looks for drift on a schedule: a warning, or a failure with fail-on-drift', async () => {
    const schedule: RunContext = { eventName: 'schedule', ...repo };
    const warned = fakeCiHost(schedule, trees());
    await run(warned);
    expect(warned.failed).toBeUndefined();
    expect(warned.summary).toContain('APIM policy drift');
    expect(warned.log.filter((l) => l.level === 'warning').map((l) => l.line)).toEqual([expect.stringMatching(/^live APIM differs from .*\(set fail-on-drift: true to fail the run\)$/)]);

    const failing = fakeCiHost(schedule, { ...trees(), 'fail-on-drift': 'true' });
    await run(failing);
    expect(failing.failed).toMatch(/^live APIM differs from .*: \{"create":0,"update":1,"delete":0,"unchanged":1\}$/);
  });

  it('checks max-deletes only when the run applies', async () => {
    const planned = fakeCiHost(pullRequest(), { ...trees(), 'max-deletes': 'many' });
    await run(planned);
    expect(planned.failed).toBeUndefined();

    const applied = fakeCiHost(push('main'), { ...trees(), ...instance, 'max-deletes': 'many' });
    await run(applied);
    expect(applied.failed).toBe('input max-deletes must be a whole number of deletes, or -1 for no limit (got "many")');
    expect(applied.idTokenAsks).toEqual([]);
  });
});

describe("a fork's pull request", () => {
  it.each(['auto', 'plan', 'apply'])('with mode %s lints only: no Azure call, no ID token asked for, no comment', async (mode) => {
    const host = fakeCiHost(pullRequest(true), { 'policies-path': trees()['policies-path'], ...instance, mode });
    await run(host);
    expect(host.failed).toBeUndefined();
    expect(host.idTokenAsks).toEqual([]);
    expect(host.comments).toEqual([]);
    expect(host.outputs).toEqual({});
    expect(host.log).toContainEqual({ level: 'info', line: 'pull request #5 comes from the fork someone/r: lint only, no Azure call.' });
    expect(host.summary).toContain('This pull request comes from a fork.');
  });
});

describe('failures', () => {
  it('a lint error fails the run, leads the job summary, is annotated and posted on the pull request', async () => {
    const broken = makeTree({ 'apis/a/policy.xml': '<policies>\n  <inbound>\n    <base>\n  </inbound>\n</policies>\n' });
    const host = fakeCiHost(pullRequest(), { 'policies-path': broken, ...instance });
    await run(host);
    expect(host.failed).toMatch(/^1 error\(s\) in .*; nothing was planned or written\. First: .*apis\/a\/policy\.xml:4:3 closing tag <\/inbound> does not match the open <base>$/);
    expect(host.summary).toMatch(/^> \[!CAUTION\]\n> 1 error\(s\) in /);
    expect(host.annotations).toHaveLength(1);
    expect(host.annotations[0]!.reserve).toEqual({ error: 1 });
    expect(host.annotations[0]!.findings.map((d) => d.rule)).toEqual(['parse']);
    expect(host.comments.map((c) => [c.kind, c.issueNumber])).toEqual([['plan', 5]]);
    expect(host.idTokenAsks).toEqual([]);
  });

  it('an error thrown anywhere becomes the failure and the head of the summary', async () => {
    const host = fakeCiHost(pullRequest(), { ...trees(), mode: 'deploy' });
    await run(host);
    expect(host.failed).toBe('input mode "deploy" is not one of auto, plan, apply, lint, drift');
    expect(host.summary).toBe('> [!CAUTION]\n> input mode "deploy" is not one of auto, plan, apply, lint, drift\n');
    expect(host.annotations).toEqual([{ findings: [], reserve: { error: 1 } }]);
  });

  it('a missing target names every input it needs, before any ID token is asked for', async () => {
    const host = fakeCiHost(pullRequest(), { 'policies-path': trees()['policies-path'] });
    const saved = process.env.AZURE_SUBSCRIPTION_ID;
    delete process.env.AZURE_SUBSCRIPTION_ID;
    try {
      await run(host);
    } finally {
      if (saved !== undefined) process.env.AZURE_SUBSCRIPTION_ID = saved;
    }
    expect(host.failed).toMatch(/^Azure target: --subscription-id \(input subscription-id, or AZURE_SUBSCRIPTION_ID\) is required; --resource-group/);
    expect(host.idTokenAsks).toEqual([]);
  });
});
