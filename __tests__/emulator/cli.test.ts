import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:https';
import { CLI, ROOT } from '../helpers/run.js';

function getJson(url: string, ca: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    request(url, { ca }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    })
      .on('error', reject)
      .end();
  });
}

describe('apim-policy emulator (as a process)', () => {
  it('prints the ready line, serves the seeded tree over HTTPS and stops on SIGTERM', async () => {
    const child = spawn(process.execPath, [CLI, 'emulator', '--seed', 'policies'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (c) => {
        out += c;
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
      });
      child.once('exit', (code) => reject(new Error(`emulator exited ${code}`)));
    });
    const ready = JSON.parse(line);
    expect(Object.keys(ready).sort()).toEqual(['adminUrl', 'armEndpoint', 'clientId', 'env', 'resourceGroup', 'serviceName', 'subscriptionId', 'tenantId']);
    expect(ready.armEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    for (const name of ['NODE_EXTRA_CA_CERTS', 'AZURE_AUTHORITY_HOST', 'ACTIONS_ID_TOKEN_REQUEST_URL', 'ACTIONS_ID_TOKEN_REQUEST_TOKEN', 'GITHUB_API_URL']) {
      expect(typeof ready.env[name]).toBe('string');
    }
    const ca = readFileSync(ready.env.NODE_EXTRA_CA_CERTS, 'utf8');
    const state = await getJson(`${ready.adminUrl}state`, ca);
    expect(state.status).toBe(200);
    const addresses = Object.keys((state.body as { resources: Record<string, unknown> }).resources);
    expect(addresses).toEqual(
      expect.arrayContaining([
        'policies/policy',
        'apis/chat/policies/policy',
        'apis/orders/operations/send-order/policies/policy',
        'products/integration/policies/policy',
        'policyFragments/correlation',
      ]),
    );
    // Without a bearer token ARM answers 401.
    const unauth = await getJson(
      `${ready.armEndpoint}/subscriptions/${ready.subscriptionId}/resourceGroups/${ready.resourceGroup}/providers/Microsoft.ApiManagement/service/${ready.serviceName}/policies/policy?api-version=2024-05-01`,
      ca,
    );
    expect(unauth.status).toBe(401);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });
});

describe('apim-policy emulator --seed with a {#TOKEN#} whose variable is not set', () => {
  it('does not start: it names the token, the file and what to set', () => {
    const env = { ...process.env };
    delete env.ORDERS_API_KEY;
    const r = spawnSync(process.execPath, [CLI, 'emulator', '--seed', 'policies'], { cwd: ROOT, env, encoding: 'utf8', timeout: 60000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('cannot seed from policies/named values/orders-api-key/namedValueInformation.json: {#ORDERS_API_KEY#} needs the environment variable ORDERS_API_KEY; set it');
  });
});

describe('apim-policy emulator --write-env-file', () => {
  it('writes a private shell file; after sourcing it a bare `plan --policies` talks to the emulator', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'apim-env-'));
    const envFile = join(dir, 'emulator.env');
    const child = spawn(process.execPath, [CLI, 'emulator', '--seed', 'policies', '--write-env-file', envFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (c: Buffer) => c.toString().includes('\n') && resolve());
        child.once('exit', (code) => reject(new Error(`emulator exited ${code}`)));
      });
      expect(statSync(envFile).mode & 0o777).toBe(0o600);
      const text = readFileSync(envFile, 'utf8');
      for (const name of [
        'AZURE_SUBSCRIPTION_ID',
        'AZURE_TENANT_ID',
        'AZURE_CLIENT_ID',
        'APIM_RESOURCE_GROUP',
        'APIM_SERVICE_NAME',
        'APIM_ARM_ENDPOINT',
        'NODE_EXTRA_CA_CERTS',
        'ACTIONS_ID_TOKEN_REQUEST_URL',
      ])
        expect(text).toMatch(new RegExp(`^export ${name}='[^']+'$`, 'm'));
      // The variable the seed's {#ORDERS_API_KEY#} was resolved with: the value the instance holds.
      expect(text).toMatch(new RegExp(`^export ORDERS_API_KEY='${process.env.ORDERS_API_KEY}'$`, 'm'));
      // A clean environment: only what the file gives (and PATH to find node).
      const r = spawnSync('/bin/sh', ['-c', `. "${envFile}" && "${process.execPath}" "${CLI}" plan --policies policies`], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
        encoding: 'utf8',
      });
      expect([r.status, r.stdout]).toEqual([0, expect.stringContaining('No changes.')]);
      // Never overwritten: a second emulator refuses an existing file.
      const again = spawnSync(process.execPath, [CLI, 'emulator', '--write-env-file', envFile], { cwd: ROOT, encoding: 'utf8', timeout: 60000 });
      expect(again.status).toBe(1);
      expect(again.stderr).toContain(`cannot write --write-env-file ${envFile}: it exists; give a new file`);
    } finally {
      child.kill('SIGTERM');
    }
  });
});
