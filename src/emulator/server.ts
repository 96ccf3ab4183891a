/**
 * The emulator's HTTPS server: parses requests into `EmulatorRequest`s, serves the admin API,
 * applies latency, auth, ARM throttling (token buckets, throttle.ts) and injected faults, logs each
 * request and asks the route handlers in turn (auth and GitHub fakes first, then ARM: identity/RBAC,
 * policies). Several APIM services can live in its one subscription: one `EmulatorState` each,
 * picked by the path's `…/providers/Microsoft.ApiManagement/service/<name>` segment; role
 * assignments are the subscription's, shared by all (state.ts).
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LiveSeed } from '../model/seed.js';
import { createAuth, type EmulatorAuth } from './auth.js';
import { identityRoutes } from './arm-identity.js';
import { policyRoutes, storePolicy } from './arm-policies.js';
import { authorize, rbacAdmin, setDeployerAssignments, type DeployerAssignment } from './rbac-enforce.js';
import { deleteEntity, parentsOf, storeEntity } from './arm-entities.js';
import { createGitHubFake, type GitHubFake } from './github.js';
import { seedState } from './seed.js';
import { createEmulatorState } from './state.js';
import { ArmThrottle, operationTypeOf, throttledMessage, throttleOf, type ThrottleConfig } from './throttle.js';
import { createTls, type EmulatorTls } from './tls.js';
import { armError, type EmulatorIdentity, type EmulatorRequest, type EmulatorResponse, type EmulatorState, type RouteHandler } from './types.js';

export { DEFAULT_THROTTLE, type ThrottleConfig } from './throttle.js';

/** One APIM service instance of the emulator's subscription. */
export interface EmulatorService {
  name: string;
  seed?: LiveSeed;
}

export interface EmulatorOptions {
  /** 0 or absent = any free port. */
  port?: number;
  /** The live state it starts with (the CLI loads it from a tree: src/cli/emulator-seed.ts). */
  seed?: LiveSeed;
  /**
   * Several services in the one subscription and resource group (the first is the default: its
   * name is `ready.serviceName`); when given, `seed` and `target.serviceName` are not used.
   */
  services?: EmulatorService[];
  /** More client IDs (apps, i.e. principals) the fake Entra issues ARM tokens to, beside `target.clientId`. */
  clientIds?: string[];
  latencyMs?: number;
  /** Share (0..1) of ARM requests answered with 429 + Retry-After, 500, 503 or a connection reset. */
  faultRate?: number;
  /** `true` = ARM's default buckets (reads 250 + 25/s, writes and deletes 200 + 10/s per principal; 15× globally). */
  throttle?: boolean | Partial<ThrottleConfig>;
  /** ARM route handlers; default identity/RBAC then policies. */
  routes?: RouteHandler[];
  /** Overrides of the fake subscription, resource group, service, tenant and client IDs. */
  target?: Partial<EmulatorIdentity>;
  /** The deploying identity's role assignments (default: rbac-enforce.ts `defaultDeployerAssignments`). */
  rbac?: DeployerAssignment[];
}

export interface ReadyLine {
  armEndpoint: string;
  subscriptionId: string;
  resourceGroup: string;
  serviceName: string;
  tenantId: string;
  clientId: string;
  adminUrl: string;
  env: {
    NODE_EXTRA_CA_CERTS: string;
    AZURE_AUTHORITY_HOST: string;
    ACTIONS_ID_TOKEN_REQUEST_URL: string;
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: string;
    GITHUB_API_URL: string;
  };
}

export interface RequestLogEntry {
  method: string;
  path: string;
  /** 0 when the connection was reset by an injected fault. */
  status: number;
  auth: 'bearer' | 'none';
  /** Query parameters as sent (`api-version`, `format`, `$filter`, …). */
  query: Record<string, string>;
  /** The `If-Match` header, when sent. */
  ifMatch?: string;
  /** The JSON body's top-level keys, and those of its `properties`, sorted (a request-contract check reads them). */
  bodyKeys?: string[];
  /** The client ID the bearer token was issued to (ARM requests with a valid token). */
  principal?: string;
}

function bodyKeysOf(body: string): string[] | undefined {
  if (!body) return undefined;
  try {
    const b = JSON.parse(body) as unknown;
    if (!b || typeof b !== 'object' || Array.isArray(b)) return [];
    const keys = Object.keys(b);
    const props = (b as { properties?: unknown }).properties;
    if (props && typeof props === 'object' && !Array.isArray(props)) keys.push(...Object.keys(props).map((k) => `properties.${k}`));
    return keys.sort();
  } catch {
    return ['(not JSON)'];
  }
}

export interface RunningEmulator {
  ready: ReadyLine;
  close(): Promise<void>;
  /** In-process access (tests, demo): the default (first) service's state. */
  state: EmulatorState;
  /** Every service's state, by lower-cased name, in the order given. */
  services: Map<string, EmulatorState>;
  auth: EmulatorAuth;
  github: GitHubFake;
  /** CA certificate (PEM) to trust, e.g. `tlsOptions: { ca }` in Azure SDK client options. */
  caCert: string;
}

export const DEFAULT_TARGET: EmulatorIdentity = {
  subscriptionId: '00000000-0000-4000-8000-00000000a001',
  resourceGroup: 'rg-apim-emulator',
  serviceName: 'apim-emulator',
  tenantId: '00000000-0000-4000-8000-00000000a002',
  clientId: '00000000-0000-4000-8000-00000000a003',
};

interface FailWrites {
  address: string;
  status: number;
  times: number;
}
interface Faults {
  latencyMs: number;
  errorRate: number;
  throttle: Required<ThrottleConfig> | undefined;
  failWrites: FailWrites | undefined;
}

/** The service name of an ARM path, if it addresses one (`…/providers/Microsoft.ApiManagement/service/<name>…`). */
const SERVICE_IN_PATH = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.apimanagement\/service\/([^/]+)(\/|$)/i;

const NON_ARM = /^\/(github-oidc|github-api)(\/|$)|^\/[^/]+\/(v2\.0\/\.well-known\/openid-configuration|oauth2\/v2\.0\/token|discovery\/v2\.0\/keys)$/i;

function parseRequest(req: IncomingMessage, body: string, baseUrl: string): EmulatorRequest {
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const query: Record<string, string> = {};
  if (q >= 0) {
    for (const part of raw.slice(q + 1).split('&')) {
      if (!part) continue;
      const eqAt = part.indexOf('=');
      const dec = (s: string) => {
        try {
          return decodeURIComponent(s.replace(/\+/g, ' '));
        } catch {
          return s;
        }
      };
      const k = dec(eqAt < 0 ? part : part.slice(0, eqAt));
      const v = eqAt < 0 ? '' : dec(part.slice(eqAt + 1));
      query[k] = v === 'undefined' ? '' : v;
    }
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return { method: (req.method ?? 'GET').toUpperCase(), path: rawPath.replace(/\/{2,}/g, '/') || '/', query, headers, body, baseUrl };
}

function send(res: ServerResponse, method: string, r: EmulatorResponse): void {
  const headers: Record<string, string> = { ...(r.headers ?? {}) };
  let payload: string | undefined;
  if (r.body !== undefined && method !== 'HEAD' && r.status !== 204) {
    if (typeof r.body === 'string') payload = r.body;
    else {
      payload = JSON.stringify(r.body);
      if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json; charset=utf-8';
    }
  }
  if (payload !== undefined) headers['Content-Length'] = String(Buffer.byteLength(payload));
  else if (r.status !== 204) headers['Content-Length'] = '0';
  res.writeHead(r.status, headers);
  res.end(payload);
}

const eqi = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startEmulator(options: EmulatorOptions = {}): Promise<RunningEmulator> {
  const list: EmulatorService[] = options.services?.length ? options.services : [{ name: options.target?.serviceName ?? DEFAULT_TARGET.serviceName, ...(options.seed ? { seed: options.seed } : {}) }];
  const target: EmulatorIdentity = { ...DEFAULT_TARGET, ...(options.target ?? {}), serviceName: list[0]!.name };
  const shared = new Map();
  const services = new Map<string, EmulatorState>();
  for (const svc of list) {
    if (!/^[a-z][a-z0-9-]{0,49}$/i.test(svc.name)) throw new Error(`emulator: "${svc.name}" is not a valid API Management service name (letters, digits and hyphens, starting with a letter)`);
    if (services.has(svc.name.toLowerCase())) throw new Error(`emulator: service "${svc.name}" given twice`);
    const st = createEmulatorState({ ...target, serviceName: svc.name }, shared);
    if (svc.seed) seedState(st, svc.seed);
    services.set(svc.name.toLowerCase(), st);
  }
  const state = services.get(list[0]!.name.toLowerCase())!;
  if (options.rbac) {
    for (const st of services.values()) {
      const rbacProblem = setDeployerAssignments(st, options.rbac);
      if (rbacProblem) throw new Error(`emulator rbac: ${rbacProblem}`);
    }
  }
  const tls: EmulatorTls = await createTls();
  const auth = createAuth({ tenantId: target.tenantId, clientId: target.clientId });
  for (const c of options.clientIds ?? []) auth.addClient(c);
  const github = createGitHubFake();
  const armRoutes = options.routes ?? [identityRoutes, policyRoutes];
  const faults: Faults = {
    latencyMs: options.latencyMs ?? 0,
    errorRate: options.faultRate ?? 0,
    throttle: throttleOf(options.throttle),
    failWrites: undefined,
  };
  const throttle = new ArmThrottle(faults.throttle);
  const configureBuckets = () => throttle.configure(faults.throttle);
  const log: RequestLogEntry[] = [];
  const defaultState = state;
  let baseUrl = '';

  function admin(req: EmulatorRequest): EmulatorResponse {
    // `?service=<name>` picks the service of state/edit/faults (default: the first; faults: all).
    const named = req.query['service'];
    const picked = named ? services.get(named.toLowerCase()) : state;
    if (!picked) return { status: 404, body: { error: `no service "${named}" (the emulator has ${[...services.values()].map((s) => s.target.serviceName).join(', ')})` } };
    return adminOf(req, picked, named ? [picked] : [...services.values()]);
  }

  function adminOf(req: EmulatorRequest, state: EmulatorState, faultTargets: EmulatorState[]): EmulatorResponse {
    const route = `${req.method} ${req.path
      .replace(/^\/admin\/?/i, '')
      .replace(/\/+$/, '')
      .toLowerCase()}`;
    const json = (): any => {
      try {
        return JSON.parse(req.body || '{}');
      } catch {
        return undefined;
      }
    };
    switch (route) {
      case 'GET state': {
        const resources: Record<string, { value: unknown; etag: string; description?: string }> = {};
        for (const r of [...state.resources.values()].sort((a, b) => (a.address < b.address ? -1 : 1))) {
          // Fragments also carry their description (an addition to the documented shape).
          const { description } = r as { description?: string };
          resources[r.address] = { value: r.value, etag: r.etag, ...(description !== undefined ? { description } : {}) };
        }
        return { status: 200, body: { resources } };
      }
      case 'POST edit': {
        const b = json();
        if (!b || typeof b.address !== 'string' || !b.address) return { status: 400, body: { error: 'body must be {"address","value"} or {"address","delete":true}' } };
        const key = b.address.toLowerCase();
        if (b.delete === true) {
          // Deleting an API, operation, product or workspace deletes what is under it, as ARM does.
          const had = deleteEntity(state, b.address);
          return { status: 200, body: { address: b.address, deleted: had } };
        }
        if (!('value' in b)) return { status: 400, body: { error: 'missing "value"' } };
        if (typeof b.value === 'string' && /(^|\/)(policies\/[^/]+|policyfragments\/[^/]+)$/i.test(b.address)) {
          try {
            // A policy edited in "by hand" comes with its API, operation, product or workspace (created in the portal).
            for (const parent of parentsOf(b.address)) storeEntity(state, parent);
            const { record } = storePolicy(state, b.address, b.value, typeof b.description === 'string' ? b.description : undefined);
            return { status: 200, body: { address: record.address, etag: record.etag } };
          } catch (e) {
            return { status: 400, body: { error: (e as Error).message } };
          }
        }
        const etag = `"${state.nextEtag()}"`;
        state.resources.set(key, { address: state.resources.get(key)?.address ?? b.address, value: b.value, etag });
        return { status: 200, body: { address: b.address, etag } };
      }
      case 'GET requests':
        return { status: 200, body: { total: log.length, log, tokenRequests: auth.tokenRequests } };
      case 'GET throttle':
        return { status: 200, body: { enforcing: throttle.enforcing, remaining: throttle.snapshot() } };
      case 'GET services':
        return { status: 200, body: { services: [...services.values()].map((s) => s.target.serviceName) } };
      case 'POST faults': {
        const b = json();
        if (!b || typeof b !== 'object') return { status: 400, body: { error: 'body must be a JSON object' } };
        faults.latencyMs = Number(b.latencyMs ?? 0) || 0;
        faults.errorRate = Math.min(1, Math.max(0, Number(b.errorRate ?? 0) || 0));
        faults.throttle = throttleOf(b.throttle);
        faults.failWrites =
          b.failWrites && typeof b.failWrites.address === 'string'
            ? { address: b.failWrites.address.toLowerCase(), status: Number(b.failWrites.status ?? 500), times: Number(b.failWrites.times ?? 1) }
            : undefined;
        for (const st of faultTargets) {
          st.faults.principalNotFound = Math.max(0, Number(b.principalNotFound ?? 0) || 0);
          st.faults.omitFromAllPolicies = Array.isArray(b.omitFromAllPolicies)
            ? b.omitFromAllPolicies.filter((p: unknown): p is string => typeof p === 'string').map((p: string) => p.toLowerCase())
            : [];
          st.faults.allPoliciesStatus = Number(b.allPoliciesStatus) >= 400 ? Number(b.allPoliciesStatus) : undefined;
          // A rawxml read answers the bare policy XML (no JSON envelope), as live instances have been seen to.
          st.faults.rawxmlBare = b.rawxmlBare === true;
          st.faults.fragmentLroFail = Math.max(0, Number(b.fragmentLroFail ?? 0) || 0);
          st.faults.keyVaultDenials = Math.max(0, Number(b.keyVaultDenials ?? 0) || 0);
        }
        configureBuckets();
        const { principalNotFound, omitFromAllPolicies, allPoliciesStatus, rawxmlBare, fragmentLroFail, keyVaultDenials } = state.faults;
        return { status: 200, body: { ...faults, principalNotFound, omitFromAllPolicies, allPoliciesStatus, rawxmlBare, fragmentLroFail, keyVaultDenials } };
      }
      case 'GET rbac':
        return rbacAdmin(req, state);
      case 'POST rbac': {
        // The deployer's role assignments hold in every service of the subscription (or the one ?service= names).
        let out: EmulatorResponse = { status: 400, body: { error: 'no service' } };
        for (const st of faultTargets) {
          out = rbacAdmin(req, st);
          if (out.status !== 200) return out;
        }
        return out;
      }
      case 'GET github/comments':
        return { status: 200, body: { comments: github.comments().map((c) => ({ id: c.id, issueNumber: c.issueNumber, author: c.author.login, body: c.body })) } };
      case 'POST github/pulls': {
        const b = json();
        if (!b || !Array.isArray(b.pulls)) return { status: 400, body: { error: 'body must be {"sha","pulls":[…]}' } };
        github.setPulls(typeof b.sha === 'string' ? b.sha : '*', b.pulls);
        return { status: 200, body: { ok: true } };
      }
      default:
        return { status: 404, body: { error: `unknown admin route ${route}` } };
    }
  }

  function injectedFailure(status: number): EmulatorResponse {
    const code = status === 429 ? 'TooManyRequests' : status === 503 ? 'ServiceUnavailable' : status === 409 ? 'Conflict' : status >= 500 ? 'InternalServerError' : 'InjectedFailure';
    const r = armError(status, code, `Injected failure (HTTP ${status}) by the emulator.`);
    if (status === 429 || status === 503) r.headers = { 'Retry-After': '1' };
    return r;
  }

  /** Runs the ARM handlers; applies `failWrites` by rolling back a write that touched its address. */
  function arm(req: EmulatorRequest, state: EmulatorState): EmulatorResponse {
    const isWrite = req.method !== 'GET' && req.method !== 'HEAD';
    const fw = faults.failWrites;
    const snapshot = isWrite && fw && fw.times !== 0 ? new Map(state.resources) : undefined;
    const operations = snapshot ? new Map(state.operations) : undefined;
    const principalNotFound = state.faults.principalNotFound;
    let res: EmulatorResponse | undefined;
    for (const h of armRoutes) {
      res = h(req, state);
      if (res) break;
    }
    if (snapshot && fw) {
      const before = snapshot.get(fw.address);
      const after = state.resources.get(fw.address);
      // A fragment write stores nothing until its operation completes: accepting it counts as the write.
      const accepted = [...state.operations.values()].some((op) => !operations!.has(op.id) && op.address.toLowerCase() === fw.address);
      if (before !== after || accepted) {
        state.resources.clear();
        for (const [k, v] of snapshot) state.resources.set(k, v);
        state.operations.clear();
        for (const [k, v] of operations!) state.operations.set(k, v);
        state.faults.principalNotFound = principalNotFound;
        if (fw.times > 0) fw.times -= 1;
        return injectedFailure(fw.status);
      }
    }
    return res ?? armError(404, 'ResourceNotFound', `The emulator has no route for '${req.method} ${req.path}'.`);
  }

  async function handle(req: EmulatorRequest, res: ServerResponse): Promise<void> {
    if (/^\/admin(\/|$)/i.test(req.path)) {
      send(res, req.method, admin(req));
      return;
    }
    const entry: RequestLogEntry = {
      method: req.method,
      path: req.path,
      status: 0,
      auth: /^bearer\s/i.test(req.headers['authorization'] ?? '') ? 'bearer' : 'none',
      query: req.query,
      ...(req.headers['if-match'] !== undefined ? { ifMatch: req.headers['if-match'] } : {}),
      ...(req.body ? { bodyKeys: bodyKeysOf(req.body) } : {}),
    };
    const principal = auth.principalOf(req);
    if (principal !== undefined) entry.principal = principal;
    log.push(entry);
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    let out: EmulatorResponse | undefined;
    if (NON_ARM.test(req.path)) {
      out = auth.routes(req, state) ?? github.routes(req, state) ?? { status: 404, body: { message: 'Not Found' } };
    } else {
      // ARM: the service the path names (or the default one for subscription-level routes)
      const op = operationTypeOf(req.method);
      const svc = SERVICE_IN_PATH.exec(req.path);
      const state = svc && eqi(svc[1]!, target.subscriptionId) && eqi(svc[2]!, target.resourceGroup) ? services.get(svc[3]!.toLowerCase()) : defaultState;
      const throttled = auth.isAuthorized(req) ? throttle.take(principal ?? '', op) : undefined;
      if (!throttled) out = auth.unauthorized(req);
      else if (!throttled.allowed) {
        out = armError(429, 'TooManyRequests', throttledMessage(op, throttled.limitedBy ?? 'principal'));
        out.headers = { 'Retry-After': String(throttled.retryAfterSeconds ?? 1) };
      } else if (!state) {
        out = armError(
          404,
          'ResourceNotFound',
          `The Resource 'Microsoft.ApiManagement/service/${svc![3]}' under resource group '${svc![2]}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix`,
        );
      } else if (faults.errorRate > 0 && Math.random() < faults.errorRate) {
        const pick = Math.floor(Math.random() * 4);
        if (pick === 3) {
          entry.status = 0;
          res.socket?.destroy();
          return;
        }
        out = injectedFailure([429, 500, 503][pick]);
      } else {
        out = authorize(req, state) ?? arm(req, state);
      }
      out.headers = {
        ...(out.headers ?? {}),
        ...(throttled?.headers ?? {}),
        'x-ms-request-id': req.headers['x-ms-client-request-id'] ?? randomBytes(16).toString('hex'),
        'x-ms-correlation-request-id': randomBytes(16).toString('hex'),
      };
    }
    entry.status = out.status;
    send(res, req.method, out);
  }

  const server: Server = createServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const parsed = parseRequest(req, Buffer.concat(chunks).toString('utf8'), baseUrl);
      handle(parsed, res).catch((e: unknown) => {
        if (!res.headersSent) send(res, parsed.method, armError(500, 'InternalServerError', `Emulator error: ${(e as Error).message}`));
        else res.destroy();
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  baseUrl = `https://127.0.0.1:${port}`;

  const ready: ReadyLine = {
    armEndpoint: baseUrl,
    subscriptionId: target.subscriptionId,
    resourceGroup: target.resourceGroup,
    serviceName: target.serviceName,
    tenantId: target.tenantId,
    clientId: target.clientId,
    adminUrl: `${baseUrl}/admin/`,
    env: {
      NODE_EXTRA_CA_CERTS: tls.caFile,
      AZURE_AUTHORITY_HOST: baseUrl,
      ACTIONS_ID_TOKEN_REQUEST_URL: `${baseUrl}/github-oidc/token?api-version=2.0`,
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: auth.requestToken,
      GITHUB_API_URL: `${baseUrl}/github-api`,
    },
  };

  return {
    ready,
    state,
    services,
    auth,
    github,
    caCert: tls.caCert,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      tls.dispose();
    },
  };
}
