import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
