/**
 * What keeps the action's start short (README "Performance"): the big packages a run may not need
 * are in chunks of their own, loaded when first used, and undici is evaluated only when first used.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../helpers/run.js';

const dist = join(ROOT, 'dist');
const entry = readFileSync(join(dist, 'index.js'), 'utf8');
const chunks = readdirSync(dist)
  .filter((f) => /^\d+\.index\.js$/.test(f))
  .map((f) => readFileSync(join(dist, f), 'utf8'));

test.each([
  ['the APIM SDK', 'class ApiManagementClient'],
  ['@azure/identity with MSAL', 'class ConfidentialClientApplication'],
  ['arm-authorization', 'class AuthorizationManagementClient'],
  ['arm-msi', 'class ManagedServiceIdentityClient'],
  ['octokit', 'class Octokit'],
])('%s is in a chunk loaded on first use, not in dist/index.js', (_, marker) => {
  expect(entry).not.toContain(marker);
  expect(chunks.filter((c) => c.includes(marker))).toHaveLength(1);
});

test('the undici stand-in loads undici on first use and hands out its own exports', () => {
  const script = `
    const loaded = () => Object.keys(require.cache).some((k) => k.includes('/node_modules/undici/'));
    const shim = require('./src/bundle/undici-lazy.cjs');
    const atStart = loaded();
    const esModule = shim.__esModule;
    const afterInterop = loaded();
    const fetch = shim.fetch;
    const real = require('undici');
    console.log(JSON.stringify({ atStart, esModule: esModule === undefined, afterInterop, afterUse: loaded(), same: fetch === real.fetch && shim.ProxyAgent === real.ProxyAgent, has: 'Agent' in shim }));
  `;
  const r = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout)).toEqual({ atStart: false, esModule: true, afterInterop: false, afterUse: true, same: true, has: true });
});
