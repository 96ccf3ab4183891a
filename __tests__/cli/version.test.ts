import { readFileSync } from 'node:fs';
import { TOOL_VERSION } from '../../src/version.js';
import { ROOT, runCli } from '../helpers/run.js';

it('reports the version package.json declares', () => {
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8'));
  expect(TOOL_VERSION).toBe(pkg.version);
  expect(runCli(['--version']).stdout.trim()).toBe(pkg.version);
});
