/**
 * The pure parts of issue 13's plan guard: the root guess, the plan's hashes and what they cover,
 * and the max-deletes count (each checked before apply makes any call to ARM).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guessPolicyRoot, misplacedTreeProblem } from '../../src/desired/root-guess.js';
import { addressKey, parsePolicyAddress } from '../../src/model/address.js';
import type { IdentityWriter, LiveWriter, Plan, PolicyResource } from '../../src/model/index.js';
import { applyPlan, ApplyRefusedError } from '../../src/plan/apply.js';
import { computePlan, recount } from '../../src/plan/compute.js';
import { sealPlan, stableJson, verifyPlan } from '../../src/plan/integrity.js';
import { makeTree, policy } from '../helpers/tree.js';

const source = { kind: 'azure' as const, serviceId: '/subscriptions/x/resourceGroups/rg/providers/Microsoft.ApiManagement/service/s', armEndpoint: 'https://management.azure.com', fingerprint: 'f' };

function state(entries: Record<string, string>, etags = true) {
  return {
    resources: new Map(
      Object.entries(entries).map(([a, xml], i) => [addressKey(a), { type: 'policy', address: a, scope: parsePolicyAddress(a)!, xml, ...(etags ? { etag: `"e${i}"` } : {}) } as PolicyResource]),
    ),
  };
}

const planOf = (desired: Record<string, string>, live: Record<string, string>): Plan => computePlan({ state: state(desired, false) }, { state: state(live) }, { source });

/** A writer that fails the test if apply calls it: every refusal here comes before any ARM call. */
const untouchable: LiveWriter & IdentityWriter = new Proxy({} as LiveWriter & IdentityWriter, {
  get: (_t, name) => () => {
    throw new Error(`apply called ${String(name)} before refusing`);
  },
});
const snapshotFile = () => join(mkdtempSync(join(tmpdir(), 'apim-policy-units-')), 'snap.json');

describe('the root guess', () => {
  test('too high: the subfolder that places the files; too low: the parent', () => {
    const repo = makeTree({ 'policies/policy.xml': policy(), 'policies/apis/a/policy.xml': policy(), 'policies/apis/a/operations/o/policy.xml': policy(), 'docs/policy.xml': policy() });
    expect(guessPolicyRoot(repo)).toBe(join(repo, 'policies'));
    expect(guessPolicyRoot(join(repo, 'policies', 'apis'))).toBe(join(repo, 'policies', 'apis', '..'));
    const problem = misplacedTreeProblem(repo, 0)!;
    expect(problem).toMatchObject({ severity: 'error', rule: 'policies-root', file: repo });
    expect(problem.message).toContain(`did you mean \`${join(repo, 'policies')}\`?`);
    // A tree that deploys something, or has no policy.xml at all, is not this problem.
    expect(misplacedTreeProblem(repo, 1)).toBeUndefined();
    expect(misplacedTreeProblem(makeTree({ 'README.md': 'x' }), 0)).toBeUndefined();
    // A placed file that did not load (a parse error) says the root is right.
    expect(misplacedTreeProblem(makeTree({ 'apis/a/policy.xml': '<policies>', 'x/y/policy.xml': policy() }), 0)).toBeUndefined();
  });

  test('workspaces and fragments place too; no guess when nothing would place', () => {
    const repo = makeTree({ 'src/apim/workspaces/w/apis/a/policy.xml': policy(), 'src/apim/policy fragments/f/policy.xml': '<fragment />' });
    expect(guessPolicyRoot(repo)).toBe(join(repo, 'src', 'apim'));
    const stray = makeTree({ 'a/b/c/d/e/f/policy.xml': policy() });
    expect(guessPolicyRoot(stray)).toBeUndefined();
    expect(misplacedTreeProblem(stray, 0)!.message).not.toContain('did you mean');
  });
});

describe('the plan hashes', () => {
  test('stable JSON: the same text whatever the key order, undefined members left out, and after a file round trip', () => {
    expect(stableJson({ b: 1, a: [1, { d: undefined, c: 'x' }] })).toBe('{"a":[1,{"c":"x"}],"b":1}');
    const plan = planOf({ 'apis/a/policies/policy': policy('<base /><set-header name="x" exists-action="override"><value>1</value></set-header>') }, { 'apis/a/policies/policy': policy() });
    expect(verifyPlan(JSON.parse(JSON.stringify(plan))).reasons).toEqual([]);
  });

  test('checks in order, naming the address: ETag, canonical content, content, diff; then the plan as a whole', () => {
    const fresh = () =>
      planOf(
        { 'apis/a/policies/policy': policy('<set-header name="x" exists-action="override"><value>1</value></set-header>'), 'apis/b/policies/policy': policy() },
        { 'apis/a/policies/policy': policy(), 'apis/c/policies/policy': policy() },
      );
    const a = (p: Plan) => p.changes.find((c) => c.address === 'apis/a/policies/policy')!;

    let p = fresh();
    delete a(p).live!.etag;
    expect(verifyPlan(p)).toEqual({ reasons: [expect.stringMatching(/^apis\/a\/policies\/policy: the plan has no ETag/)], addresses: ['apis/a/policies/policy'] });
    p = fresh();
    const del = p.changes.find((c) => c.action === 'delete')!;
    delete del.live!.etag;
    expect(verifyPlan(p).reasons).toEqual([expect.stringMatching(/^apis\/c\/policies\/policy: the plan has no ETag .* deletes what was reviewed/)]);

    p = fresh();
    a(p).desired!.xml = '<policies><inbound>';
    expect(verifyPlan(p).reasons).toEqual([expect.stringMatching(/^apis\/a\/policies\/policy: its content in the plan does not parse/)]);

    p = fresh();
    a(p).desired!.description = 'added';
    expect(verifyPlan(p).reasons).toEqual([expect.stringContaining('its entry in the plan was edited')]);

    p = fresh();
    a(p).added = 0;
    expect(verifyPlan(p).reasons).toEqual([expect.stringContaining('its diff in the plan is not the one plan wrote')]);

    p = fresh();
    p.problems = [];
    p.source = { ...source, fingerprint: 'g' };
    expect(verifyPlan(p).reasons).toEqual([expect.stringContaining('the integrity hash differs')]);

    // A change that is taken out and the plan sealed again (what the pipeline does) is a new, valid plan.
    p = fresh();
    p.changes = p.changes.filter((c) => c.action !== 'delete');
    recount(p);
    expect(verifyPlan(p).reasons).toEqual([expect.stringContaining('the integrity hash differs')]);
    expect(verifyPlan(sealPlan(p)).reasons).toEqual([]);
  });

  test('apply refuses an edited plan before any call to ARM', async () => {
    const p = planOf({ 'apis/a/policies/policy': policy('<set-header name="x" exists-action="override"><value>1</value></set-header>') }, { 'apis/a/policies/policy': policy() });
    p.changes[0]!.desired!.xml = p.changes[0]!.desired!.xml.replace('<value>1', '<value>2');
    const err = await applyPlan(p, untouchable, { targetFingerprint: 'f', allowDeletes: true, snapshotFile: snapshotFile() }).catch((e) => e);
    expect(err).toBeInstanceOf(ApplyRefusedError);
    expect(err.changed).toEqual(['apis/a/policies/policy']);
    expect(err.message).toMatch(/^the plan is not as plan wrote it, so it is not what was reviewed; nothing was written\. apis\/a\/policies\/policy: its content in the plan is not what was planned/);
  });
});

describe('max-deletes', () => {
  const live: Record<string, string> = {};
  for (let i = 0; i < 12; i++) live[`apis/old-${i}/policies/policy`] = policy();

  test('counts only the deletes apply would make; default 10; -1 lifts it', async () => {
    const plan = planOf({ 'policies/policy': policy() }, live);
    const refuse = (options: { allowDeletes: boolean; maxDeletes?: number }) => applyPlan(plan, untouchable, { targetFingerprint: 'f', snapshotFile: snapshotFile(), ...options }).catch((e) => e);
    const byDefault = await refuse({ allowDeletes: true });
    expect(byDefault).toBeInstanceOf(ApplyRefusedError);
    expect(byDefault.message).toBe(
      'this plan deletes 12 resources (12 policies), more than max-deletes allows (10); nothing was written. If that many deletes are meant, raise the limit for this run: --max-deletes 12 (action input max-deletes: 12), or -1 for no limit.',
    );
    expect((await refuse({ allowDeletes: true, maxDeletes: 11 })).message).toContain('more than max-deletes allows (11)');
    // Past the limit, apply goes on to read live: the untouchable writer says so.
    expect((await refuse({ allowDeletes: true, maxDeletes: 12 })).message).toMatch(/apply called read/);
    expect((await refuse({ allowDeletes: true, maxDeletes: -1 })).message).toMatch(/apply called read/);
    // Deletes not allowed are not made, so they do not count.
    expect((await refuse({ allowDeletes: false, maxDeletes: 0 })).message).toMatch(/apply called read/);
  });

  test('role assignments and identities taken away count when destructive changes are allowed', async () => {
    const plan = planOf({ 'policies/policy': policy() }, { 'policies/policy': policy() });
    const scope = '/subscriptions/x/resourceGroups/rg';
    const assignment = (n: number) => ({
      address: `roleAssignments/0000000${n}-0000-4000-8000-000000000000`,
      action: 'delete' as const,
      resourceType: 'roleAssignment' as const,
      roleAssignment: { name: `0000000${n}-0000-4000-8000-000000000000`, scope, roleDefinitionGuid: 'r', roleName: 'Reader', identity: 'system', principalId: 'p' },
      live: { sha256: 'x' },
      destructive: 'deletes it',
    });
    const identity = {
      address: 'identity',
      action: 'update' as const,
      resourceType: 'identity' as const,
      live: { sha256: 'x' },
      identity: { before: { systemAssigned: true, userAssigned: ['/u/1', '/u/2'] }, after: { systemAssigned: false, userAssigned: ['/u/1'] } },
      destructive: 'takes away',
    };
    plan.changes = [identity, ...plan.changes, assignment(1), assignment(2)];
    recount(plan);
    sealPlan(plan);
    const options = { targetFingerprint: 'f', allowDeletes: false, snapshotFile: snapshotFile(), identityWriter: untouchable, maxDeletes: 3 };
    const allowed = await applyPlan(plan, untouchable, { ...options, allowDestructiveIdentityChanges: true }).catch((e) => e);
    expect(allowed.message).toMatch(/^this plan deletes 4 resources \(2 role assignment\(s\), 2 identities taken away\), more than max-deletes allows \(3\)/);
    // Not allowed: none of them is made, none counts (and here nothing else is left to do).
    const notAllowed = await applyPlan(plan, untouchable, options);
    expect(notAllowed.ok).toBe(true);
    expect(notAllowed.skippedDestructive.map((c) => c.address)).toEqual(['identity', assignment(1).address, assignment(2).address]);
  });
});
