/**
 * `apim-policy extract` writes the named values and backends of the instance as APIOps's
 * information files (`{"properties": {…}}`, 2 spaces, a newline at the end), without what ARM fills
 * (`provisioningState`, a Key Vault reference's `lastStatus`). A secret's value is never fetched
 * (no listValue) nor written: its file has a `{#TOKEN#}`, and extract says which variables the
 * tree now needs. The bundled CLI against the emulator.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli } from '../helpers/emulator.js';
import { makeTree, policy } from '../helpers/tree.js';

const SECRET = 'extract-never-sees-this-9c1e';
const KV_URL = 'https://kv-extract-test.vault.azure.net/secrets/db-password';
const info = (properties: object) => JSON.stringify({ properties });

let emu: RunningEmulator;
afterEach(async () => {
  await emu?.close();
});

/** Every file below `dir` with its text. */
function files(dir: string, base = dir): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) for (const [k, v] of files(path, base)) out.set(k, v);
    else out.set(path.slice(base.length + 1), readFileSync(path, 'utf8'));
  }
  return out;
}

test('extract writes named values and backends as APIOps files; a secret becomes a token, its value in no file and no output', async () => {
  emu = await startEmulator({
    seedDir: makeTree({
      'policy.xml': policy(),
      'named values/plain/namedValueInformation.json': info({ displayName: 'plain', value: 'hello', tags: ['t1'] }),
      'named values/api-key/namedValueInformation.json': info({ displayName: 'api-key', secret: true, value: SECRET }),
      'named values/db/namedValueInformation.json': info({ displayName: 'db', secret: true, keyVault: { secretIdentifier: KV_URL } }),
      'backends/orders/backendInformation.json': info({ url: 'https://orders.example.com/api', protocol: 'http', description: 'Orders' }),
    }),
  });
  const out = join(makeTree({}), 'extracted');
  const run = await cli(emu, ['extract', '--out', out]);
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect(run.stdout).toContain('Extracted 1 policy, 3 named values and 1 backend from');

  const written = files(out);
  const json = (rel: string) => {
    const text = written.get(rel)!;
    // APIOps's shape, formatted: 2 spaces, a newline at the end.
    expect([rel, text]).toEqual([rel, JSON.stringify(JSON.parse(text), null, 2) + '\n']);
    return JSON.parse(text) as unknown;
  };
  expect(json('named values/plain/namedValueInformation.json')).toEqual({ properties: { displayName: 'plain', tags: ['t1'], secret: false, value: 'hello' } });
  // The id has a character a variable name cannot hold: the token has `_` in its place, in capitals.
  expect(json('named values/api-key/namedValueInformation.json')).toEqual({ properties: { displayName: 'api-key', tags: [], secret: true, value: '{#API_KEY#}' } });
  expect(json('named values/db/namedValueInformation.json')).toEqual({ properties: { displayName: 'db', tags: [], secret: true, keyVault: { secretIdentifier: KV_URL } } });
  expect(json('backends/orders/backendInformation.json')).toEqual({
    properties: { url: 'https://orders.example.com/api', protocol: 'http', description: 'Orders', tls: { validateCertificateChain: true, validateCertificateName: true } },
  });
  expect(run.stdout).toContain('  named values/api-key/namedValueInformation.json\n');
  expect(run.stdout).toContain('  backends/orders/backendInformation.json\n');

  // The variables the tree now needs, and nothing of the value anywhere.
  expect(run.stdout).toMatch(/environment variables[^\n]*:\n {2}API_KEY \(named values\/api-key\/namedValueInformation\.json\)\n/);
  expect(run.stdout).not.toContain('db (');
  for (const [rel, text] of written) expect([rel, text.includes(SECRET)]).toEqual([rel, false]);
  expect(run.stdout + run.stderr).not.toContain(SECRET);
  // Never fetched: extract reads only (no listValue, no write of any kind).
  const log = (await admin(emu, 'GET', 'requests')).log as Array<{ method: string; path: string }>;
  expect(log.filter((e) => /^\/subscriptions\//i.test(e.path) && e.method !== 'GET')).toEqual([]);
}, 90_000);
