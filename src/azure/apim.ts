/**
 * APIM policies over ARM with the real `@azure/arm-apimanagement` client: one session per run,
 * every call through the one scheduler. Reads use `format=rawxml` and take the body from the raw
 * response, which also works around the `apiPolicy.get` bug (azure-sdk-for-js#31566) for every
 * scope alike. Writes send `format: rawxml` (the tree's raw C# expressions) and `If-Match`.
 */
import type { ApiManagementClient } from '@azure/arm-apimanagement';
import type { FullOperationResponse } from '@azure/core-client';
import type { PagedAsyncIterableIterator } from '@azure/core-paging';
import type { TokenCredential } from '@azure/identity';
import { armCall, longRunningWrite, type ArmSession } from './arm-call.js';
import { ArmEntityStore, isEntityAddress } from './entities.js';
import { locatedOf, parsePolicyAddress } from '../model/address.js';
import { kindRow, patternParams } from '../model/kinds.js';
import { idSegmentsProblem } from '../model/arm-id.js';
import type { Address, LiveCopy, LiveWriter, PolicyScope, PolicyScopeKind } from '../model/index.js';
import { apimWrite, fromRawxml, parsePolicyDocument } from '../policy-xml/index.js';
import { statusOf } from './arm-errors.js';
import { createArmScheduler, type ArmSchedulerOptions } from './scheduler.js';
import { armTokenScope, serviceResourceId, type AzureTarget } from './target.js';

export { armCall, type ArmSession } from './arm-call.js';

let apimSdk: Promise<typeof import('@azure/arm-apimanagement')> | undefined;

/**
 * The APIM SDK, loaded on first use. It is most of the bundle (2.4 MB, a third of the start-up
 * time), so the bundler gives it a chunk of its own: a run that never talks to ARM (lint, forks,
 * bad input) does not load it, and a run that does loads it while its first token is fetched.
 */
export function loadApimSdk(): Promise<typeof import('@azure/arm-apimanagement')> {
  return (apimSdk ??= import('@azure/arm-apimanagement'));
}

/** Client options every ARM client of a session shares: its cloud, its token scope, its scheduler. */
export function armClientOptions(session: Pick<ArmSession, 'target' | 'scheduler'>) {
  return {
    endpoint: session.target.armEndpoint,
    credentialScopes: [armTokenScope(session.target.armEndpoint)],
    // The scheduler retries whole calls; the SDK's own retries would hide 429s from it.
    retryOptions: { maxRetries: 0 },
    additionalPolicies: [{ policy: session.scheduler.pipelinePolicy, position: 'perRetry' as const }],
  };
}

export async function createArmSession(target: AzureTarget, credential: TokenCredential, options: ArmSchedulerOptions = {}): Promise<ArmSession> {
  const { ApiManagementClient, getContinuationToken } = await loadApimSdk();
  const scheduler = createArmScheduler(options);
  const client = new ApiManagementClient(credential, target.subscriptionId, armClientOptions({ target, scheduler }));
  return { target, client, scheduler, credential, continuationToken: getContinuationToken };
}

// The operation groups share one shape: (rg, service, [workspace], ids…, ['policy'], …).
type PolicyGroup = {
  get(...args: unknown[]): Promise<unknown>;
  createOrUpdate?(...args: unknown[]): Promise<unknown>;
  beginCreateOrUpdate?(...args: unknown[]): Promise<{ poll(): Promise<void>; isDone(): boolean; toString(): string }>;
  delete(...args: unknown[]): Promise<unknown>;
};

/** The SDK's operation group of each policy kind, without and with a workspace: the ARM row of the kinds table's rows. */
const GROUPS: Record<PolicyScopeKind, (c: ApiManagementClient) => [unknown, unknown]> = {
  global: (c) => [c.policy, c.workspacePolicy],
  product: (c) => [c.productPolicy, c.workspaceProductPolicy],
  api: (c) => [c.apiPolicy, c.workspaceApiPolicy],
  operation: (c) => [c.apiOperationPolicy, c.workspaceApiOperationPolicy],
  fragment: (c) => [c.policyFragment, c.workspacePolicyFragment],
};

/** The operation group and its id arguments (workspace, the row's ids in order, the fixed name): the SDK's calls take the ARM path's ids. */
function operationsFor(client: ApiManagementClient, scope: PolicyScope): { group: PolicyGroup; ids: string[] } {
  const at = locatedOf(scope);
  const row = kindRow(scope.kind);
  const ids = patternParams(row.arm).map((p) => at.params[p]!);
  if (row.armName) ids.push(row.armName);
  const [plain, workspace] = GROUPS[scope.kind](client);
  return at.workspace !== undefined ? { group: workspace as PolicyGroup, ids: [at.workspace, ...ids] } : { group: plain as PolicyGroup, ids };
}

function scopeOf(address: Address): PolicyScope {
  const scope = parsePolicyAddress(address);
  if (!scope) throw new Error(`${address} is not the address of a policy or a policy fragment`);
  // The last guard before a URL is made of it: `apis/..` would be the global policy, `policyFragments/..` the service.
  const problem = idSegmentsProblem(address.split('/'));
  if (problem) throw new Error(`${JSON.stringify(address)} is not a clean ARM id (${problem}); it is never sent to ARM`);
  return scope;
}

/**
 * The policy of a `format=rawxml` read. Two shapes answer it: the spec's JSON `PolicyContract`, and
 * (seen on live instances) the bare XML with content type `application/vnd.ms-azure-apim.policy.raw+xml`.
 */
function bodyOf(raw: FullOperationResponse | undefined): { bare?: true; properties?: { value?: unknown; description?: unknown } } {
  if (!raw?.bodyAsText) return {};
  const type = raw.headers.get('content-type') ?? '';
  if (/\+xml\b|\/xml\b/i.test(type) || (!/json/i.test(type) && raw.bodyAsText.trimStart().startsWith('<'))) return { bare: true, properties: { value: raw.bodyAsText } };
  try {
    return JSON.parse(raw.bodyAsText) as { properties?: { value?: unknown; description?: unknown } };
  } catch {
    return {};
  }
}

/** Reads and writes policies and fragments by address; named values and backends go to their own store (entities.ts). */
export class ArmPolicyStore implements LiveWriter {
  private readonly entities: ArmEntityStore;
  constructor(private readonly session: ArmSession) {
    this.entities = new ArmEntityStore(session);
  }

  private get rg(): string {
    return this.session.target.resourceGroup;
  }
  private get service(): string {
    return this.session.target.serviceName;
  }

  async read(address: Address): Promise<LiveCopy | undefined> {
    if (isEntityAddress(address)) return this.entities.read(address);
    const { group, ids } = operationsFor(this.session.client, scopeOf(address));
    return armCall(this.session, 'read', `GET ${address}`, async () => {
      let raw: FullOperationResponse | undefined;
      try {
        await group.get(this.rg, this.service, ...ids, { format: 'rawxml', onResponse: (r: FullOperationResponse) => (raw = r) });
      } catch (e) {
        if (statusOf(e) === 404) return undefined;
        throw e;
      }
      const body = bodyOf(raw);
      const props = body.properties ?? {};
      if (typeof props.value !== 'string') throw new Error(`ARM returned no policy text for ${address}`);
      // A bare rawxml answer has no description: a fragment's comes from its enveloped `format=xml` read.
      if (body.bare && scopeOf(address).kind === 'fragment') {
        let xmlRaw: FullOperationResponse | undefined;
        await group.get(this.rg, this.service, ...ids, { format: 'xml', onResponse: (r: FullOperationResponse) => (xmlRaw = r) });
        props.description = bodyOf(xmlRaw).properties?.description;
      }
      const copy: LiveCopy = { address, xml: rawxmlAsFile(props.value, scopeOf(address).kind === 'fragment' ? 'fragment' : 'policies') };
      const etag = raw?.headers.get('etag');
      if (etag) copy.etag = etag;
      if (typeof props.description === 'string') copy.description = props.description;
      return copy;
    });
  }

  async put(address: Address, xml: string, options: { ifMatch?: string; description?: string }): Promise<{ etag?: string }> {
    if (isEntityAddress(address)) return this.entities.put(address, xml, options);
    const scope = scopeOf(address);
    const { group, ids } = operationsFor(this.session.client, scope);
    const fragment = scope.kind === 'fragment';
    const params = {
      ...apimWrite(parsePolicyDocument(xml, { file: address, expect: fragment ? 'fragment' : 'policies' }), xml),
      ...(fragment && options.description !== undefined ? { description: options.description } : {}),
    };
    let etag: string | undefined;
    const opts = {
      ...(options.ifMatch ? { ifMatch: options.ifMatch } : {}),
      onResponse: (r: FullOperationResponse) => (etag = r.headers.get('etag') ?? etag),
    };
    if (fragment) {
      // A long-running operation: only the accepted PUT is a write a retry may repeat (see longRunningWrite).
      await longRunningWrite(this.session, `PUT ${address}`, (o) => group.beginCreateOrUpdate!(this.rg, this.service, ...ids, params, { ...opts, ...o }), opts.onResponse);
      return etag ? { etag } : {};
    }
    return armCall(this.session, 'write', `PUT ${address}`, async () => {
      await group.createOrUpdate!(this.rg, this.service, ...ids, params, opts);
      return etag ? { etag } : {};
    });
  }

  async remove(address: Address, ifMatch: string): Promise<void> {
    if (isEntityAddress(address)) return this.entities.remove(address, ifMatch);
    const { group, ids } = operationsFor(this.session.client, scopeOf(address));
    await armCall(this.session, 'write', `DELETE ${address}`, () => group.delete(this.rg, this.service, ...ids, ifMatch));
  }
}

/** A rawxml answer as a text read like a file (policy-xml `fromRawxml`); one that does not parse is left for the plan to report. */
function rawxmlAsFile(text: string, kind: 'fragment' | 'policies'): string {
  try {
    return fromRawxml(text, kind);
  } catch {
    return text;
  }
}

/**
 * Every item of a paged ARM list, one scheduled call per page (a retry repeats only that page).
 * `continuationToken` is the paging helper of the SDK whose list this is (default: the APIM one).
 */
export async function listAll<T extends object>(
  session: ArmSession,
  what: string,
  list: () => PagedAsyncIterableIterator<T, T[]>,
  continuationToken: (page: unknown) => string | undefined = session.continuationToken,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  do {
    const from = token;
    // A fresh iterator per attempt: a generator that threw is finished, and its next() would end the list early.
    const page = await armCall(
      session,
      'read',
      what,
      async () =>
        (
          await list()
            .byPage(from ? { continuationToken: from } : {})
            .next()
        ).value as T[] | undefined,
    );
    if (!page) break;
    out.push(...page);
    token = continuationToken(page);
  } while (token);
  return out;
}

/** The address of an ARM resource ID under this instance, or undefined for anything else. */
export function addressOfId(target: AzureTarget, id: string): Address | undefined {
  const prefix = serviceResourceId(target).toLowerCase() + '/';
  const normalised = id.replace(/^\/+/, '/');
  if (!normalised.toLowerCase().startsWith(prefix)) return undefined;
  return normalised.slice(prefix.length);
}
