/**
 * Login failures that say what to do: `--auth default` with no credential anywhere names each
 * credential DefaultAzureCredential tried and what to set; an untrusted TLS certificate (the
 * emulator without NODE_EXTRA_CA_CERTS) names NODE_EXTRA_CA_CERTS and where the CA file is; an
 * audience that is not Entra ID's standard one is warned about first, and the federated-credential
 * command printed on the mismatch carries the standard audience, not the typo. The bundled CLI in
 * its own process, real @azure/identity, against the seeded emulator over HTTPS.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startSeededEmulator as startEmulator } from '../../src/cli/emulator-seed.js';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { admin, cliAgainst as cli, targetFlags } from '../helpers/emulator.js';
import { CLI, ROOT, collect, runCliAsync } from '../helpers/run.js';
import { runAction } from '../helpers/runner.js';
import { makeTree, policy } from '../helpers/tree.js';

let emu: RunningEmulator;
beforeAll(async () => {
  emu = await startEmulator({ seedDir: join(ROOT, 'policies') });
});
afterAll(async () => {
  await emu?.close();
});

const armRequests = async (): Promise<number> => ((await admin(emu, 'GET', 'requests')) as { log: { path: string }[] }).log.filter((e) => /^\/subscriptions\//i.test(e.path)).length;

test('--auth default with no credential anywhere: each credential of the chain and what to set for it', async () => {
  // An environment with none of them: no AZURE_* variables, a PATH with node only (no az, azd, pwsh),
  // an empty HOME (and the sample's one secret variable). Managed identity probes IMDS (169.254.169.254) with @azure/identity's own one-second
  // timeout; AZURE_POD_IDENTITY_AUTHORITY_HOST is left unset on purpose (set, it skips the probe and retries for 20 s).
  const env = {
    PATH: `${join(ROOT, 'no-such-bin')}:${dirname(process.execPath)}`,
    HOME: mkdtempSync(join(tmpdir(), 'apim-policy-home-')),
    NODE_EXTRA_CA_CERTS: emu.ready.env.NODE_EXTRA_CA_CERTS,
    ORDERS_API_KEY: 'k',
  };
  const before = await armRequests();
  const run = await collect(spawn(process.execPath, [CLI, 'plan', '--policies', 'policies', '--auth', 'default', ...targetFlags(emu)], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] }));
  expect(run.code).toBe(1);
  const err = run.stderr;
  expect(err).toMatch(/--auth default: DefaultAzureCredential found no credential here\. It tried:/);
  for (const tried of [
    /- environment \(AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET\): EnvironmentCredential is unavailable/,
    /- managed identity/,
    /- Azure CLI \(az login\): Azure CLI could not be found/,
    /- Azure PowerShell/,
    /- Azure Developer CLI/,
  ])
    expect(err).toMatch(tried);
  expect(err).toMatch(/az login/);
  expect(err).toMatch(/set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET/);
  expect(err).toMatch(/AZURE_FEDERATED_TOKEN_FILE/);
  expect(err).toMatch(/--auth oidc/);
  expect(err).not.toMatch(/ChainedTokenCredential authentication failed/);
  expect(await armRequests()).toBe(before);
}, 60000);

test('the emulator without NODE_EXTRA_CA_CERTS: a TLS message that names NODE_EXTRA_CA_CERTS and the CA file, not retried', async () => {
  const env: NodeJS.ProcessEnv = { ...emu.ready.env, GITHUB_ACTIONS: '' };
  delete env.NODE_EXTRA_CA_CERTS;
  const before = (await admin(emu, 'GET', 'requests')).log.length;
  const run = await runCliAsync(['plan', '--policies', 'policies', ...targetFlags(emu)], { env });
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(/^error: [^\n]*: the TLS certificate of the endpoint is not trusted \(/);
  expect(run.stderr).toMatch(/NODE_EXTRA_CA_CERTS set to the emulator's CA file: the path is env\.NODE_EXTRA_CA_CERTS in its ready line/);
  expect(run.stderr).toMatch(/apim-policy emulator --write-env-file <file>/);
  // No request got through the handshake: nothing reached the emulator.
  expect((await admin(emu, 'GET', 'requests')).log.length).toBe(before);
}, 60000);

test('a non-standard --audience: a warning before anything else, and the suggested federated credential has the standard audience', async () => {
  const typo = 'api://AzureADTokenExchnage';
  const run = await cli(emu, ['plan', '--policies', 'policies', '--audience', typo]);
  expect(run.code).toBe(1);
  const lines = run.stderr.split('\n');
  expect(lines[0]).toMatch(/^warning: --audience "api:\/\/AzureADTokenExchnage" is not a standard audience for the Entra ID token exchange \(api:\/\/AzureADTokenExchange;/);
  expect(run.stderr).toMatch(/az ad app federated-credential create .*"audiences":\["api:\/\/AzureADTokenExchange"\]/);
  expect(run.stderr).not.toMatch(/"audiences":\["api:\/\/AzureADTokenExchnage"\]/);
  expect(run.stderr).toMatch(/This run's audience "api:\/\/AzureADTokenExchnage" is not the standard api:\/\/AzureADTokenExchange/);
}, 60000);

test('the standard audience, given explicitly: no warning, the plan runs', async () => {
  const run = await cli(emu, ['plan', '--policies', 'policies', '--audience', 'api://AzureADTokenExchange']);
  expect(run.stderr).not.toMatch(/warning/);
  expect(run.code).toBe(0);
}, 60000);

test('the action: a non-standard audience input is the first thing the log says, as a warning annotation', () => {
  const tree = makeTree({ 'apis/a/policy.xml': policy() });
  const r = runAction({ 'policies-path': tree, 'live-snapshot': tree, mode: 'plan', audience: 'api://AzureADTokenExchange/' });
  expect(r.code).toBe(0);
  expect(r.stdout.split('\n')[0]).toMatch(/^::warning::input audience "api:\/\/AzureADTokenExchange\/" is not a standard audience/);
  const plain = runAction({ 'policies-path': tree, 'live-snapshot': tree, mode: 'plan', audience: 'api://AzureADTokenExchangeUSGov' });
  expect(plain.code).toBe(0);
  expect(plain.stdout).not.toMatch(/::warning::/);
});
