/** Pure parts of the GitHub side: run context, comment markers, SARIF, the lint rendering's limit. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commentMarker, writtenBy } from '../../src/github/comment.js';
import { readRunContext } from '../../src/github/context.js';
import { isPushToDefaultBranch } from '../../src/ci/mode.js';
import { armProgressLog, armSummaryLine } from '../../src/ci/progress.js';
import { toSarif } from '../../src/render/sarif.js';
import type { Diagnostic } from '../../src/model/index.js';
import { renderLintMarkdown, renderMarkdown } from '../../src/render/markdown.js';
import { computePlan } from '../../src/plan/compute.js';
import { ROOT } from '../helpers/run.js';

const FIXTURE = join(ROOT, '__tests__', 'fixtures', 'github', 'pull_request.opened.json');

function event(adjust: (p: any) => void): string {
  const p = JSON.parse(readFileSync(FIXTURE, 'utf8'));
  adjust(p);
  const path = join(mkdtempSync(join(tmpdir(), 'apim-policy-ctx-')), 'event.json');
  writeFileSync(path, JSON.stringify(p));
  return path;
}

describe('run context', () => {
  const base = { GITHUB_EVENT_NAME: 'pull_request', GITHUB_REPOSITORY: 'Codertocat/Hello-World', GITHUB_RUN_ID: '7' };

  it('reads the pull request, its head commit and the run link', () => {
    const ctx = readRunContext({ ...base, GITHUB_EVENT_PATH: FIXTURE, GITHUB_RUN_ATTEMPT: '2' });
    expect(ctx.pullRequest).toMatchObject({ number: 2, headSha: 'ec26c3e57ca3a959ca5aad62de7213c562f8c821', fromFork: false });
    expect(ctx.runUrl).toBe('https://github.com/Codertocat/Hello-World/actions/runs/7/attempts/2');
  });

  it('treats another head repository, and a deleted one, as a fork', () => {
    const fork = readRunContext({ ...base, GITHUB_EVENT_PATH: event((p) => (p.pull_request.head.repo.full_name = 'someone/Hello-World')) });
    expect(fork.pullRequest!.fromFork).toBe(true);
    const gone = readRunContext({ ...base, GITHUB_EVENT_PATH: event((p) => (p.pull_request.head.repo = null)) });
    expect(gone.pullRequest!.fromFork).toBe(true);
  });

  it('applies only on a push to the default branch named in the payload', () => {
    const payload = event((p) => (p.repository.default_branch = 'trunk'));
    expect(isPushToDefaultBranch(readRunContext({ ...base, GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/trunk', GITHUB_EVENT_PATH: payload }))).toBe(true);
    expect(isPushToDefaultBranch(readRunContext({ ...base, GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/heads/main', GITHUB_EVENT_PATH: payload }))).toBe(false);
    expect(isPushToDefaultBranch(readRunContext({ ...base, GITHUB_EVENT_NAME: 'push', GITHUB_REF: 'refs/tags/v1', GITHUB_EVENT_PATH: payload }))).toBe(false);
  });

  it('names the event file when it cannot be read', () => {
    expect(() => readRunContext({ ...base, GITHUB_EVENT_PATH: '/nonexistent/event.json' })).toThrow(/GITHUB_EVENT_PATH \/nonexistent\/event\.json: cannot read/);
  });
});

describe('comment marker', () => {
  it('is an HTML comment that a key cannot end early', () => {
    expect(commentMarker('plan', 'prod')).toBe('<!-- apim-policy-deploy:plan:prod -->');
    const m = commentMarker('apply', 'a-->b\n<c>');
    expect(m).toMatch(/^<!-- apim-policy-deploy:apply:[^<>\n]* -->$/);
    expect(m.indexOf('-->')).toBe(m.length - 3);
  });
});

const finding = (i: number, severity: Diagnostic['severity'] = 'error'): Diagnostic => ({
  severity,
  rule: severity === 'error' ? 'parse' : 'unknown-section',
  file: `/repo/policies/apis/a${i}/policy.xml`,
  line: i + 1,
  column: 0,
  message: `problem ${i}`,
});

describe('comment author', () => {
  it("is the token's own account, spelled as REST or as GraphQL names it; never a look-alike", () => {
    expect(writtenBy({ login: 'github-actions[bot]', type: 'Bot' }, 'github-actions[bot]')).toBe(true);
    // GraphQL may name an app's bot without "[bot]"; REST shows it on the comment with it.
    expect(writtenBy({ login: 'github-actions[bot]', type: 'Bot' }, 'github-actions')).toBe(true);
    expect(writtenBy({ login: 'Deploybot', type: 'User' }, 'deploybot')).toBe(true);
    expect(writtenBy({ login: 'mallory', type: 'User' }, 'github-actions[bot]')).toBe(false);
    expect(writtenBy({ login: 'github-actions[bot]', type: 'User' }, 'github-actions')).toBe(false);
    expect(writtenBy(null, 'github-actions[bot]')).toBe(false);
  });
});

describe('SARIF', () => {
  it('has a rule per kind, a level per severity, workspace-relative locations and lines from 1', () => {
    const sarif = toSarif([finding(0), finding(1, 'warning'), finding(2, 'info')], '/repo') as any;
    expect(sarif.version).toBe('2.1.0');
    const run = sarif.runs[0];
    expect(run.tool.driver.rules.map((r: any) => r.id)).toEqual(['parse', 'unknown-section']);
    expect(run.results.map((r: any) => r.level)).toEqual(['error', 'warning', 'note']);
    expect(run.results[1].ruleIndex).toBe(1);
    expect(run.results[0].locations[0].physicalLocation).toEqual({
      artifactLocation: { uri: 'policies/apis/a0/policy.xml', uriBaseId: '%SRCROOT%' },
      region: { startLine: 1, startColumn: 1 },
    });
  });
});

describe('markdown for comments', () => {
  it('keeps a lint report with thousands of findings under the limit and counts what it left out', () => {
    const many = [...Array.from({ length: 3000 }, (_, i) => finding(i)), ...Array.from({ length: 500 }, (_, i) => finding(i, 'warning'))];
    const body = renderLintMarkdown(many, { maxLength: 60_000 });
    expect(body.length).toBeLessThanOrEqual(60_000);
    expect(body).toContain('**Lint:** 3000 errors, 500 warnings');
    const errorsListed = body.split('\n').filter((l) => /^- `.*` problem \d+ \(parse\)$/.test(l)).length;
    const errorsLeft = Number(/…and (\d+) more error\(s\)/.exec(body)![1]);
    expect(errorsListed).toBeGreaterThan(100);
    expect(errorsListed + errorsLeft).toBe(3000);
    expect(body).toContain('<details><summary>500 warnings</summary>');
  });

  it('says "No changes" in one short line', () => {
    const tree = { state: { resources: new Map() }, diagnostics: [], documents: new Map() } as any;
    const body = renderMarkdown(computePlan(tree, { state: { resources: new Map() } }, { source: { kind: 'snapshot', path: 'x' } }), { title: 'APIM policy plan · prod', commit: 'abcdef0123456789' });
    const lines = body.trim().split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('**No changes.** Live APIM matches the policies tree (0 resources) · commit `abcdef012345`.');
  });
});

describe('markdown for identity changes', () => {
  it('warns about what is taken away and names roles, not only GUIDs', () => {
    const plan = computePlan({ state: { resources: new Map() }, diagnostics: [], documents: new Map() } as any, { state: { resources: new Map() } }, { source: { kind: 'snapshot', path: 'x' } });
    const ra = {
      name: '0f0f0f0f-1111-5222-8333-444444444444',
      scope: '/subscriptions/s/resourceGroups/rg',
      roleDefinitionGuid: '69a216fc-b8fb-44d8-bc22-1f3c2cd27a39',
      roleName: 'Azure Service Bus Data Sender',
      identity: 'system',
      principalId: 'p',
    };
    plan.changes = [
      {
        address: 'identity',
        action: 'update',
        resourceType: 'identity',
        file: 'policies/identity.yaml',
        line: 2,
        diff: '-systemAssigned: true\n+systemAssigned: false\n',
        added: 1,
        removed: 1,
        destructive: 'identity: disables the system-assigned identity',
      },
      {
        address: `roleAssignments/${ra.name}`,
        action: 'delete',
        resourceType: 'roleAssignment',
        roleAssignment: ra,
        diff: '-role: x\n',
        added: 0,
        removed: 1,
        destructive: 'deletes the role assignment Azure Service Bus Data Sender for system (p) on /subscriptions/s/resourceGroups/rg',
      },
    ];
    plan.summary = { create: 0, update: 1, delete: 1, unchanged: 0 };
    const body = renderMarkdown(plan);
    expect(body).toContain('> 2 change(s) take away an identity or access. Apply makes them only when allowed (`allow-destructive-identity-changes`):');
    expect(body).toContain('> - identity: disables the system-assigned identity');
    // A role assignment delete is not a policy delete (no allow-deletes warning for it).
    expect(body).not.toContain('exist in APIM but not in the tree');
    expect(body).toContain(`| - delete | \`roleAssignments/${ra.name}\` Azure Service Bus Data Sender for system |  |`);
    expect(body).toContain('| ~ update | `identity` | `policies/identity.yaml:2` |');
  });
});

describe('ARM progress in the action log', () => {
  test('a line at most every interval, none before the first interval has passed', () => {
    let t = 1_000;
    const lines: string[] = [];
    const progress = armProgressLog(
      (l) => lines.push(l),
      15_000,
      () => t,
    );
    progress(1, 10);
    t += 14_999;
    progress(2, 10);
    expect(lines).toEqual([]);
    t += 1;
    progress(1200, 5055);
    t += 5_000;
    progress(1300, 5055);
    t += 10_000;
    progress(2500, 5055);
    expect(lines).toEqual(['ARM calls: 1,200 of 5,055 done', 'ARM calls: 2,500 of 5,055 done']);
  });

  test('the summary line names throttling, retries and failures only when there were any', () => {
    expect(armSummaryLine({ calls: 5055, retries: 0, throttled: 0, failed: 0, requests: 5055 }, 194_012)).toBe('5,055 ARM call(s) in 194.0 s');
    expect(armSummaryLine({ calls: 40, retries: 3, throttled: 2, failed: 1, requests: 43 }, 1_250)).toBe('40 ARM call(s) in 1.3 s (2 throttled (429) and waited for, 3 retried, 1 failed)');
  });
});
