/**
 * `npm ci` on the Node versions package.json promises installs without an EBADENGINE warning:
 * every package in the lockfile (the tools too) accepts every Node version of `engines`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { ROOT } from '../helpers/run.js';

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };

test('every locked package accepts every Node version package.json promises, and this machine is one of them', () => {
  const promised = pkg.engines.node;
  expect(semver.validRange(promised)).not.toBeNull();
  const refusing = Object.entries(lock.packages)
    .filter(([path, p]) => path && p.engines && !Array.isArray(p.engines) && p.engines.node && !semver.subset(promised, p.engines.node))
    .map(([path, p]) => `${path.replace(/^node_modules\//, '')}@${p.version} wants node ${(p.engines as { node: string }).node}`);
  expect(refusing).toEqual([]);
  expect(semver.satisfies(process.versions.node, promised)).toBe(true);
});

test('the check can fail: a range wider than a package allows is caught', () => {
  expect(semver.subset('>=20', '>=22')).toBe(false);
  expect(semver.subset('^20.19.0 || ^22.13.0 || >=24', '^20.19.0 || ^22.13.0 || >=24')).toBe(true);
});
