/**
 * Scopes and live ids cannot climb (issue 13): the bundled CLI in its own process against the
 * emulator. A role-assignment scope or an allowed scope with `..` is an error before any
 * guardrail or ARM write; ids read from live that would climb once in a URL or a file path
 * (`apis/..`, a fragment named `..`) are reported and skipped — never deleted, never written.
 */
import { mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli, armWrites } from '../helpers/emulator.js';
import { makeTree, policy } from '../helpers/tree.js';

type LogEntry = { method: string; path: string; status: number };
type State = { resources: Record<string, { value: any; etag: string }> };

const GLOBAL = policy('<set-header name="global" exists-action="override"><value>1</value></set-header>');
const ECHO = policy('<set-header name="echo" exists-action="override"><value>1</value></set-header>');

let emu: RunningEmulator;
let SUB: string;
beforeEach(async () => {
  emu = await startEmulator({ seedDir: makeTree({ 'policy.xml': GLOBAL, 'apis/echo/policy.xml': ECHO }) });
  SUB = emu.ready.subscriptionId;
});
afterEach(async () => {
  await emu?.close();
});

const state = () => admin(emu, 'GET', 'state') as Promise<State>;
const writes = async () => armWrites((await admin(emu, 'GET', 'requests')).log as LogEntry[]);
const assignments = async () => Object.keys((await state()).resources).filter((k) => k.toLowerCase().startsWith('roleassignments/'));

const reader = (scope: string) => ['identity:', '  systemAssigned: true', 'roleAssignments:', '  - identity: system', '    role: Reader', `    scope: ${scope}`, ''].join('\n');

test('a role-assignment scope that climbs (…/st1/../../../../../..) is an error at its identity.yaml line; nothing reaches ARM', async () => {
  const RG = `/subscriptions/${SUB}/resourceGroups/rg`;
  const climbing = `${RG}/providers/Microsoft.Storage/storageAccounts/st1/../../../../../..`;
  const tree = makeTree({ 'policy.xml': GLOBAL, 'apis/echo/policy.xml': ECHO, 'identity.yaml': reader(climbing) });
  const file = join(tree, 'identity.yaml');
  const plan = await cli(emu, ['plan', '--policies', tree, '--allowed-scopes', RG]);
  expect(plan.code).toBe(1);
  expect(plan.stdout + plan.stderr).toContain(`${file}:6:12: error: scope "${climbing}" is not a clean ARM id (segment ".." is ".."`);
  // Found before any guardrail: no "outside the scopes" refusal, no ARM call at all.
  expect(plan.stdout + plan.stderr).not.toContain('[guardrail]');
  const apply = await cli(emu, ['apply', '--policies', tree, '--allowed-scopes', RG]);
  expect(apply.code).toBe(1);
  expect(apply.stdout + apply.stderr).toContain(`${file}:6:12`);
  expect(await writes()).toEqual([]);
  expect(await assignments()).toEqual([]);
}, 60000);

test('allowed-scopes compares whole segments: an entry that climbs allows nothing and is named as the problem', async () => {
  const st1 = `/subscriptions/${SUB}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st1`;
  const tree = makeTree({ 'policy.xml': GLOBAL, 'apis/echo/policy.xml': ECHO, 'identity.yaml': reader(st1) });
  const bad = `${st1}/../../../../../..`;
  const plan = await cli(emu, ['plan', '--policies', tree, '--allowed-scopes', bad]);
  expect(plan.stdout).toContain(`error: allowed scope "${bad}" is not a clean ARM id (segment ".." is ".."`);
  expect(plan.stdout).toContain('it allows nothing. Fix input allowed-scopes (CLI --allowed-scopes)');
  const apply = await cli(emu, ['apply', '--policies', tree, '--allowed-scopes', bad]);
  expect(apply.code).toBe(1);
  expect(await writes()).toEqual([]);
  // The same scope in another case is within the resource group: segments compare case-insensitively.
  const ok = await cli(emu, ['plan', '--policies', tree, '--allowed-scopes', `/SUBSCRIPTIONS/${SUB}/resourcegroups/RG`]);
  expect(ok.code).toBe(0);
}, 60000);

test('live ids that climb (apis/.., a workspace or fragment named ..) are warned about by their raw id and skipped: apply --allow-deletes does not delete the global policy', async () => {
  await admin(emu, 'POST', 'edit', { address: 'apis/../policies/policy', value: policy() });
  await admin(emu, 'POST', 'edit', { address: 'apis/%2e%2e/policies/policy', value: policy() });
  await admin(emu, 'POST', 'edit', { address: 'workspaces/../policies/policy', value: policy() });
  await admin(emu, 'POST', 'edit', { address: 'policyFragments/..', value: '<fragment><set-header name="f" exists-action="override"><value>1</value></set-header></fragment>' });
  const tree = makeTree({ 'policy.xml': GLOBAL, 'apis/echo/policy.xml': ECHO });

  const plan = await cli(emu, ['plan', '--policies', tree]);
  expect(plan.code).toBe(0);
  expect(plan.stdout).toContain('warning: live policy "apis/../policies/policy" (from allPolicies) is not a clean ARM id (segment ".." is ".."');
  expect(plan.stdout).toContain('warning: live policy "apis/%2e%2e/policies/policy" (from allPolicies) is not a clean ARM id (segment "%2e%2e" contains a percent-encoded character');
  expect(plan.stdout).toContain('warning: live policy fragment id "policyFragments/.." is not a clean ARM id');
  expect(plan.stdout).toContain('warning: live workspace id ".." is not a clean ARM id');
  expect(plan.stdout).toContain('warning: live policy "workspaces/../policies/policy" (from allPolicies) is not a clean ARM id');
  expect(plan.stdout).toContain('No changes.');

  const apply = await cli(emu, ['apply', '--policies', tree, '--allow-deletes']);
  expect(apply.code).toBe(0);
  expect(await writes()).toEqual([]);
  const live = await state();
  expect(live.resources['policies/policy']).toBeDefined();
  expect(live.resources['apis/echo/policies/policy']).toBeDefined();
}, 60000);

test('extract skips live ids that would climb: nothing outside --out, never two resources onto one file', async () => {
  await admin(emu, 'POST', 'edit', { address: 'apis/../policies/policy', value: policy('<set-header name="climbed" exists-action="override"><value>1</value></set-header>') });
  await admin(emu, 'POST', 'edit', { address: 'policyFragments/..', value: '<fragment><set-header name="f" exists-action="override"><value>1</value></set-header></fragment>' });
  const parent = makeTree({});
  const out = join(parent, 'out');
  const extract = await cli(emu, ['extract', '--out', out]);
  expect(extract.code).toBe(0);
  expect(extract.stderr).toContain('warning: live policy "apis/../policies/policy" (from allPolicies) is not a clean ARM id');
  expect(extract.stderr).toContain('warning: live policy fragment id "policyFragments/.." is not a clean ARM id');
  expect(readdirSync(parent)).toEqual(['out']);
  expect(readdirSync(out, { recursive: true }).map(String).sort()).toEqual(['apis', 'apis/echo', 'apis/echo/policy.xml', 'identity.yaml', 'policy.xml']);
  // policy.xml is the global policy, not the one whose id climbed onto its path.
  expect(readFileSync(join(out, 'policy.xml'), 'utf8')).toContain('name="global"');
  expect(readFileSync(join(out, 'policy.xml'), 'utf8')).not.toContain('climbed');
}, 60000);

test('apply refuses a tree with a symbolic link out of it, naming the link; nothing is written', async () => {
  const outside = makeTree({ 'policy.xml': policy('<set-header name="outside" exists-action="override"><value>1</value></set-header>') });
  const tree = makeTree({ 'policy.xml': GLOBAL });
  mkdirSync(join(tree, 'apis/echo'), { recursive: true });
  symlinkSync(join(outside, 'policy.xml'), join(tree, 'apis/echo/policy.xml'));
  const apply = await cli(emu, ['apply', '--policies', tree, '--allow-deletes']);
  expect(apply.code).toBe(1);
  expect(apply.stdout + apply.stderr).toContain(`${join(tree, 'apis/echo/policy.xml')}:1:1: error: is a symbolic link that leads outside the tree`);
  expect(apply.stdout + apply.stderr).not.toContain('name="outside"');
  expect(await writes()).toEqual([]);
  expect((await state()).resources['apis/echo/policies/policy']).toBeDefined();
}, 60000);
