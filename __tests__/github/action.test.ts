import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runAction } from '../helpers/runner.js';
import { makeTree, policy } from '../helpers/tree.js';

const header = (v: string) => `<set-header name="x-v" exists-action="override"><value>${v}</value></set-header>`;

describe('the action (dist/index.js as a runner runs it)', () => {
  it('plans against a live snapshot and sets outputs and the job summary', () => {
    const desired = makeTree({ 'apis/a/policy.xml': policy(header('2')), 'apis/b/policy.xml': policy() });
    const live = makeTree({ 'apis/a/policy.xml': policy(header('1')), 'apis/b/policy.xml': policy() });
    const r = runAction({ 'policies-path': desired, 'live-snapshot': live, mode: 'plan' }, { GITHUB_SHA: 'f00dfeed' });
    expect(r.code).toBe(0);
    expect(r.outputs['has-changes']).toBe('true');
    expect(JSON.parse(r.outputs.summary!)).toEqual({ create: 0, update: 1, delete: 0, unchanged: 1 });
    const plan = JSON.parse(readFileSync(r.outputs['plan-file']!, 'utf8'));
    expect(plan.commit).toBe('f00dfeed');
    expect(r.summary).toContain('**Plan:** 0 to create, 1 to update, 0 to delete, 1 unchanged');
    expect(r.summary).toContain('<code>apis/a/policies/policy</code>');
  });

  it('fails with annotations at file and line for a malformed policy', () => {
    const desired = makeTree({ 'apis/a/policy.xml': '<policies>\n  <inbound>\n    <base>\n  </inbound>\n</policies>\n' });
    const r = runAction({ 'policies-path': desired, mode: 'lint' });
    expect(r.code).toBe(1);
    const file = join(desired, 'apis/a/policy.xml');
    expect(r.stdout).toContain(`::error title=parse,file=${file},line=4,col=3::closing tag </inbound> does not match the open <base>`);
    expect(r.summary).toContain('1 error(s)');
  });

  it('names every missing target input when asked to plan against a live instance without one', () => {
    const r = runAction({ 'policies-path': makeTree({ 'policy.xml': policy() }), mode: 'plan' }, { AZURE_SUBSCRIPTION_ID: '' });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(
      /::error::Azure target: --subscription-id \(input subscription-id, or AZURE_SUBSCRIPTION_ID\) is required; --resource-group \(input resource-group, or APIM_RESOURCE_GROUP\) is required; --service-name/,
    );
    // The job summary is written on failure too.
    expect(r.summary).toMatch(/> \[!CAUTION\]\n> Azure target: --subscription-id/);
  });
});
