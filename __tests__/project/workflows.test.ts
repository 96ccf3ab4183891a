/**
 * The project's own workflows, as the typescript-action template has them: CI on Node 20 and 24,
 * dist/ checked against src/, and the action itself (`uses: ./`) run against the emulator on pull
 * requests. Each job has the token permissions its steps need (the same check as the README's).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../helpers/run.js';
import { missingPermissions, type Workflow } from '../helpers/workflow-permissions.js';

const dir = join(ROOT, '.github/workflows');
const load = (name: string) => parse(readFileSync(join(dir, name), 'utf8')) as Workflow & { jobs: Record<string, any> };
const steps = (w: { jobs: Record<string, any> }) => Object.values(w.jobs).flatMap((j) => (j.steps ?? []) as Array<{ uses?: string; run?: string; with?: Record<string, string> }>);

test('CI runs npm ci and npm test on Node 20 and 24; check-dist rebuilds dist and fails on a difference', () => {
  const ci = load('ci.yml');
  expect(ci.jobs.test.strategy.matrix.node).toEqual([20, 24]);
  expect(
    steps(ci)
      .map((s) => s.run)
      .filter(Boolean),
  ).toEqual(['npm ci', 'npm test']);
  const dist = load('check-dist.yml');
  const runs = steps(dist)
    .map((s) => s.run ?? '')
    .join('\n');
  expect(runs).toContain('npm run package');
  expect(runs).toMatch(/git status --porcelain -- dist/);
  expect(runs).toMatch(/exit 1/);
});

test('the dogfood workflow runs the committed action (uses: ./) on pull requests against the emulator, and may comment', () => {
  const dog = load('dogfood.yml');
  expect(Object.keys(dog.on as object)).toEqual(['pull_request']);
  const all = steps(dog);
  const action = all.find((s) => s.uses === './');
  expect(action?.with?.['mode']).toBe('plan');
  expect(action?.with?.['arm-endpoint']).toBe('${{ env.APIM_ARM_ENDPOINT }}');
  const start = all.find((s) => s.run?.includes(' emulator '))!.run!;
  expect(start).toContain('--write-env-file');
  // The emulator's ready environment reaches the action, GitHub's API stays GitHub's.
  expect(start).toMatch(/GITHUB_ENV/);
  expect(start).toMatch(/-e 'GITHUB_API_URL'/);
  expect(dog.jobs.plan.permissions['pull-requests']).toBe('write');
});

test('every job has the permissions its steps need (the emulator, not GitHub, issues the dogfood OIDC token)', () => {
  const names = readdirSync(dir).filter((n) => /\.ya?ml$/.test(n));
  expect(names.sort()).toEqual(['check-dist.yml', 'ci.yml', 'dogfood.yml']);
  const problems = names.flatMap((n) =>
    missingPermissions(
      load(n),
      (uses) => uses === './' && n !== 'dogfood.yml',
      () => undefined,
    ).map((p) => `${n}: ${p}`),
  );
  expect(problems).toEqual([]);
});
