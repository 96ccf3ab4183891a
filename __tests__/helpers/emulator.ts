/**
 * Raw HTTPS requests to a running emulator (its admin API, its GitHub fake). The throw-away CA is
 * passed as `ca`, since NODE_EXTRA_CA_CERTS cannot change after the test process starts.
 */
import { request } from 'node:https';
import { ApiManagementClient } from '@azure/arm-apimanagement';
import { ClientAssertionCredential, type TokenCredential } from '@azure/identity';
import type { RunningEmulator } from '../../src/emulator/server.js';
import { runCliAsync } from './run.js';

export interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export function raw(emu: RunningEmulator, method: string, url: string, opts: { headers?: Record<string, string>; body?: string } = {}): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const r = request(url, { method, ca: emu.caCert, headers: opts.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any = text;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          /* text */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    r.on('error', reject);
    r.end(opts.body);
  });
}

/** Calls the admin API (`GET requests`, `POST edit` …) and fails on anything but 200. */
export async function admin(emu: RunningEmulator, method: 'GET' | 'POST', route: string, body?: unknown): Promise<any> {
  const r = await raw(emu, method, `${emu.ready.adminUrl}${route}`, {
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (r.status !== 200) throw new Error(`admin ${method} ${route}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The Azure target flags naming the emulator, as a user passes them. */
export const targetFlags = (emu: RunningEmulator) => [
  '--arm-endpoint',
  emu.ready.armEndpoint,
  '--subscription-id',
  emu.ready.subscriptionId,
  '--resource-group',
  emu.ready.resourceGroup,
  '--service-name',
  emu.ready.serviceName,
  '--tenant-id',
  emu.ready.tenantId,
  '--client-id',
  emu.ready.clientId,
];

/** The same target as action inputs (INPUT_* names), for the bundled action. */
export const targetInputs = (emu: RunningEmulator) => ({
  'arm-endpoint': emu.ready.armEndpoint,
  'subscription-id': emu.ready.subscriptionId,
  'resource-group': emu.ready.resourceGroup,
  'service-name': emu.ready.serviceName,
  'tenant-id': emu.ready.tenantId,
  'client-id': emu.ready.clientId,
});

/** The bundled CLI against the emulator, in its own process (GitHub OIDC → Entra → ARM over HTTPS). */
export function cliAgainst(emu: RunningEmulator, args: string[], env: NodeJS.ProcessEnv = {}) {
  return runCliAsync([...args, ...targetFlags(emu)], { env: { ...emu.ready.env, GITHUB_ACTIONS: '', ...env } });
}

/**
 * The calls in an emulator request log that change the instance (ARM paths only): not reads (GET,
 * HEAD), nor a named value's `listValue` — a POST, but one that only reads its secret.
 */
export function armWrites<T extends { method: string; path: string }>(log: readonly T[]): T[] {
  return log.filter((e) => e.method !== 'GET' && e.method !== 'HEAD' && !/\/listValue$/i.test(e.path) && /^\/subscriptions\//i.test(e.path));
}

/**
 * The credential a workflow's SDK client gets against the emulator: GitHub's OIDC token (from the
 * emulator's GitHub fake) exchanged at its Entra ID for an ARM token, over HTTPS with its CA.
 */
export function emulatorCredential(emu: RunningEmulator): ClientAssertionCredential {
  return new ClientAssertionCredential(
    emu.ready.tenantId,
    emu.ready.clientId,
    async () => {
      const r = await raw(emu, 'GET', `${emu.ready.env.ACTIONS_ID_TOKEN_REQUEST_URL}&audience=${encodeURIComponent('api://AzureADTokenExchange')}`, {
        headers: { Authorization: `Bearer ${emu.ready.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}` },
      });
      if (r.status !== 200) throw new Error(`OIDC fake: ${r.status}`);
      return r.body.value as string;
    },
    { authorityHost: emu.ready.env.AZURE_AUTHORITY_HOST, disableInstanceDiscovery: true, tlsOptions: { ca: emu.caCert } },
  );
}

/** The real `@azure/arm-apimanagement` client against the emulator, without the SDK's retries (a test sees every answer). */
export function emulatorClient(emu: RunningEmulator, credential: TokenCredential = emulatorCredential(emu)): ApiManagementClient {
  return new ApiManagementClient(credential, emu.ready.subscriptionId, {
    endpoint: emu.ready.armEndpoint,
    credentialScopes: ['https://management.azure.com/.default'],
    tlsOptions: { ca: emu.caCert },
    retryOptions: { maxRetries: 0 },
  });
}
