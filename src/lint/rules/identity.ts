/**
 * Managed identities in policies (SCENARIOS.md): `authentication-managed-identity` as APIM accepts
 * it, the audience it asks for against the service it calls, and — when the tree has an
 * identity.yaml — whether the identity it uses is enabled and holds a data-plane role that lets it
 * make that call. What a policy calls is known offline only from literal URLs; anything built from
 * expressions, whole named values or hosts we do not know is skipped, never guessed: these rules
 * must not cry wolf on working policies.
 */
import type { IdentityManifest, RoleAssignmentSpec } from '../../identity/manifest.js';
import { KNOWN_BUILT_IN_ROLES } from '../../identity/manifest.js';
import { literalAttribute, type PolicyDocument, type Segment, type XmlElement } from '../../policy-xml/index.js';
import type { FileFinding, Finding, Rule, Visit } from '../rule.js';
import { at, attrIsExpression, childElements, literalText, visit } from '../rule.js';

const AMI = 'authentication-managed-identity';

// --- Services, their hosts and audiences ---

type ServiceId = 'serviceBus' | 'keyVault' | 'storage' | 'cognitive' | 'sql' | 'arm';

/** The audiences (`resource`) each service accepts, normalised (see normaliseAudience), and the spelling to suggest (AZURE-CONTRACT.md §5). */
const SERVICES: Readonly<Record<ServiceId, { label: string; audiences: readonly string[]; suggest: string }>> = {
  // One host suffix serves both Service Bus and Event Hubs namespaces; either audience is right there.
  serviceBus: {
    label: 'Service Bus / Event Hubs',
    audiences: ['https://servicebus.azure.net', 'https://eventhubs.azure.net'],
    suggest: 'resource="https://servicebus.azure.net/" (for an Event Hubs namespace, resource="https://eventhubs.azure.net/")',
  },
  keyVault: { label: 'Key Vault', audiences: ['https://vault.azure.net'], suggest: 'resource="https://vault.azure.net"' },
  storage: { label: 'Azure Storage', audiences: ['https://storage.azure.com'], suggest: 'resource="https://storage.azure.com/"' },
  cognitive: {
    label: 'Cognitive Services / Azure OpenAI',
    audiences: ['https://cognitiveservices.azure.com'],
    suggest: 'resource="https://cognitiveservices.azure.com"',
  },
  sql: { label: 'Azure SQL', audiences: ['https://database.windows.net'], suggest: 'resource="https://database.windows.net/"' },
  arm: { label: 'Azure Resource Manager', audiences: ['https://management.azure.com'], suggest: 'resource="https://management.azure.com/"' },
};

/** Data planes whose roles missing-data-role checks (keys of DATA_PLANES). */
type PlaneId = 'serviceBus' | 'eventHubs' | 'blob' | 'queue' | 'table' | 'keyVault' | 'openai' | 'cognitive';

interface Endpoint {
  /** Matched against the lower-case host; the `name` group is the resource's name. */
  host: RegExp;
  service: ServiceId;
  /** The data plane whose roles the call needs; none for services without Azure RBAC data roles we check. */
  plane?: PlaneId;
  /** The regional Cognitive Services endpoint, which does not take Entra tokens. */
  regional?: boolean;
}

const ENDPOINTS: readonly Endpoint[] = [
  { host: /^(?<name>[^.]+)\.servicebus\.windows\.net$/, service: 'serviceBus', plane: 'serviceBus' },
  { host: /^(?<name>[^.]+)\.vault\.azure\.net$/, service: 'keyVault', plane: 'keyVault' },
  // Read-access geo-redundant storage answers reads at <account>-secondary too (account names have no '-').
  { host: /^(?<name>[^.]+?)(?:-secondary)?\.blob\.core\.windows\.net$/, service: 'storage', plane: 'blob' },
  // Data Lake Gen2 (dfs) is authorised with the blob data roles.
  { host: /^(?<name>[^.]+?)(?:-secondary)?\.dfs\.core\.windows\.net$/, service: 'storage', plane: 'blob' },
  { host: /^(?<name>[^.]+?)(?:-secondary)?\.queue\.core\.windows\.net$/, service: 'storage', plane: 'queue' },
  { host: /^(?<name>[^.]+?)(?:-secondary)?\.table\.core\.windows\.net$/, service: 'storage', plane: 'table' },
  // Azure Files over REST with OAuth needs the "privileged" file roles and a request-intent header: not checked.
  { host: /^(?<name>[^.]+?)(?:-secondary)?\.file\.core\.windows\.net$/, service: 'storage' },
  { host: /^(?<name>[^.]+)\.openai\.azure\.com$/, service: 'cognitive', plane: 'openai' },
  { host: /^(?<name>[^.]+)\.cognitiveservices\.azure\.com$/, service: 'cognitive', plane: 'cognitive' },
  { host: /^[^.]+\.api\.cognitive\.microsoft\.com$/, service: 'cognitive', plane: 'cognitive', regional: true },
  { host: /^[^.]+\.database\.windows\.net$/, service: 'sql' },
  { host: /^management\.azure\.com$/, service: 'arm' },
];

/** A storage account's own endpoint is a valid audience for it, as is https://storage.azure.com/. */
const STORAGE_ENDPOINT_AUDIENCE = /^https:\/\/[^./]+\.(blob|dfs|queue|table|file)\.core\.windows\.net$/;

/** Compared without letter case and trailing slashes: files write both spellings of one audience. */
const normaliseAudience = (audience: string): string => audience.trim().toLowerCase().replace(/\/+$/, '');

/** The service a literal audience belongs to, when it is one we know; app-ID URIs, GUIDs and others give undefined. */
function audienceService(audience: string): ServiceId | undefined {
  const a = normaliseAudience(audience);
  if (STORAGE_ENDPOINT_AUDIENCE.test(a)) return 'storage';
  return (Object.keys(SERVICES) as ServiceId[]).find((id) => SERVICES[id].audiences.includes(a));
}

// --- Roles ---

/** Role definition GUID → built-in role name. */
const ROLE_NAME_BY_GUID = new Map(Object.entries(KNOWN_BUILT_IN_ROLES).map(([name, guid]) => [guid.toLowerCase(), name]));
const ROLE_NAME_BY_LOWER = new Map(Object.keys(KNOWN_BUILT_IN_ROLES).map((name) => [name.toLowerCase(), name]));

/** The built-in name of an assignment's role; undefined for custom roles and built-ins we do not list (we cannot judge those). */
function roleName(spec: RoleAssignmentSpec): string | undefined {
  if (spec.roleDefinitionGuid) return ROLE_NAME_BY_GUID.get(spec.roleDefinitionGuid);
  return ROLE_NAME_BY_LOWER.get(spec.role.trim().toLowerCase());
}

const SB_SENDER = 'Azure Service Bus Data Sender';
const SB_RECEIVER = 'Azure Service Bus Data Receiver';
const SB_OWNER = 'Azure Service Bus Data Owner';
const EH_SENDER = 'Azure Event Hubs Data Sender';
const EH_RECEIVER = 'Azure Event Hubs Data Receiver';
const EH_OWNER = 'Azure Event Hubs Data Owner';
const BLOB_READER = 'Storage Blob Data Reader';
const BLOB_CONTRIBUTOR = 'Storage Blob Data Contributor';
const BLOB_OWNER = 'Storage Blob Data Owner';
const QUEUE_CONTRIBUTOR = 'Storage Queue Data Contributor';
const QUEUE_READER = 'Storage Queue Data Reader';
const QUEUE_SENDER = 'Storage Queue Data Message Sender';
const QUEUE_PROCESSOR = 'Storage Queue Data Message Processor';
const TABLE_READER = 'Storage Table Data Reader';
const TABLE_CONTRIBUTOR = 'Storage Table Data Contributor';
const KV_ADMIN = 'Key Vault Administrator';
const KV_SECRETS_USER = 'Key Vault Secrets User';
const KV_SECRETS_OFFICER = 'Key Vault Secrets Officer';
const KV_CERT_USER = 'Key Vault Certificate User';
const KV_CERTS_OFFICER = 'Key Vault Certificates Officer';
const KV_CRYPTO_USER = 'Key Vault Crypto User';
const KV_CRYPTO_OFFICER = 'Key Vault Crypto Officer';
const KV_READER = 'Key Vault Reader';
const OPENAI_USER = 'Cognitive Services OpenAI User';
const OPENAI_CONTRIBUTOR = 'Cognitive Services OpenAI Contributor';
const COGNITIVE_USER = 'Cognitive Services User';
const COGNITIVE_CONTRIBUTOR = 'Cognitive Services Contributor';
// The Foundry roles carry Cognitive Services data actions too.
const AI_USER = 'Azure AI User';
const AI_DEVELOPER = 'Azure AI Developer';

/** What a call needs from the identity's roles. */
interface Access {
  /** For messages: "send messages to". */
  verb: string;
  /** Roles that can do it. */
  fits: readonly string[];
  /** The role to suggest. */
  grant: string;
  /** Roles of the same service that a user may take for the right one, and why they are not. */
  opposite?: { roles: readonly string[]; why: string };
}

/** A call as far as it is known offline: the HTTP method (undefined: not known) and the path. */
interface Call {
  method?: string;
  path: string;
}

const isRead = (call: Call) => call.method === 'GET' || call.method === 'HEAD';
const isWrite = (call: Call) => call.method !== undefined && !isRead(call);

interface DataPlane {
  /** "Service Bus namespace". */
  what: string;
  /** ARM type of the resource, for the scope we suggest and to match a scope when the name is not known. */
  type: string;
  /** Further types that hold the same service (Service Bus and Event Hubs share the host). */
  alsoTypes?: readonly string[];
  /**
   * The host's first label need not be the resource's name (a Cognitive Services account's custom
   * subdomain is chosen freely): any scope of the type covers it then.
   */
  nameNotInHost?: boolean;
  access(call: Call): Access;
}

const SB_SEND_FITS = [SB_SENDER, SB_OWNER, EH_SENDER, EH_OWNER];
const SB_RECEIVE_FITS = [SB_RECEIVER, SB_OWNER, EH_RECEIVER, EH_OWNER];
const RECEIVER_CANNOT_SEND = { roles: [SB_RECEIVER, EH_RECEIVER], why: 'Data Receiver cannot send' };
const SENDER_CANNOT_RECEIVE = { roles: [SB_SENDER, EH_SENDER], why: 'Data Sender cannot receive' };
const BLOB_ANY = [BLOB_READER, BLOB_CONTRIBUTOR, BLOB_OWNER];
const TABLE_ANY = [TABLE_READER, TABLE_CONTRIBUTOR];
const QUEUE_ANY = [QUEUE_CONTRIBUTOR, QUEUE_READER, QUEUE_SENDER, QUEUE_PROCESSOR];
const KV_SECRETS = [KV_SECRETS_USER, KV_SECRETS_OFFICER, KV_CERT_USER, KV_CERTS_OFFICER, KV_ADMIN];
const KV_ANY_DATA = [KV_SECRETS_USER, KV_SECRETS_OFFICER, KV_CERT_USER, KV_CERTS_OFFICER, KV_CRYPTO_USER, KV_CRYPTO_OFFICER, KV_ADMIN];
const KV_METADATA_ONLY = { roles: [KV_READER], why: `${KV_READER} sees metadata only, not secret values or key material` };
const COGNITIVE_FITS = [OPENAI_USER, OPENAI_CONTRIBUTOR, COGNITIVE_USER, AI_USER, AI_DEVELOPER];
const COGNITIVE_CONTROL = { roles: [COGNITIVE_CONTRIBUTOR], why: `${COGNITIVE_CONTRIBUTOR} manages the account but has no data access` };

const DATA_PLANES: Readonly<Record<PlaneId, DataPlane>> = {
  serviceBus: {
    what: 'Service Bus namespace',
    type: 'Microsoft.ServiceBus/namespaces',
    alsoTypes: ['Microsoft.EventHub/namespaces'],
    // Receiving over REST is a DELETE (receive and delete) or POST to .../messages/head (peek-lock); anything else sends.
    access: (call) =>
      call.method === 'DELETE' || /\/messages\/head/i.test(call.path)
        ? { verb: 'receive messages from', fits: SB_RECEIVE_FITS, grant: SB_RECEIVER, opposite: SENDER_CANNOT_RECEIVE }
        : { verb: 'send messages to', fits: SB_SEND_FITS, grant: SB_SENDER, opposite: RECEIVER_CANNOT_SEND },
  },
  eventHubs: {
    what: 'Event Hubs namespace',
    type: 'Microsoft.EventHub/namespaces',
    alsoTypes: ['Microsoft.ServiceBus/namespaces'],
    // Event Hubs' REST interface only sends.
    access: () => ({ verb: 'send events to', fits: SB_SEND_FITS, grant: EH_SENDER, opposite: RECEIVER_CANNOT_SEND }),
  },
  blob: {
    what: 'storage account',
    type: 'Microsoft.Storage/storageAccounts',
    access: (call) => {
      if (isWrite(call)) {
        const readOnly = { roles: [BLOB_READER], why: `${BLOB_READER} can only read` };
        return { verb: 'write blobs to', fits: [BLOB_CONTRIBUTOR, BLOB_OWNER], grant: BLOB_CONTRIBUTOR, opposite: readOnly };
      }
      // Without set-method the method is the caller's: any blob data role may be what the API needs.
      if (isRead(call)) return { verb: 'read blobs from', fits: BLOB_ANY, grant: BLOB_READER };
      return { verb: 'use the blobs of', fits: BLOB_ANY, grant: BLOB_CONTRIBUTOR };
    },
  },
  queue: {
    what: 'storage account',
    type: 'Microsoft.Storage/storageAccounts',
    access: (call) => {
      if (call.method !== 'POST' && call.method !== 'PUT') return { verb: 'use the queues of', fits: QUEUE_ANY, grant: QUEUE_CONTRIBUTOR };
      const cannotAdd = { roles: [QUEUE_READER, QUEUE_PROCESSOR], why: `only ${QUEUE_SENDER} or ${QUEUE_CONTRIBUTOR} can add messages` };
      return { verb: 'add messages to', fits: [QUEUE_CONTRIBUTOR, QUEUE_SENDER], grant: QUEUE_SENDER, opposite: cannotAdd };
    },
  },
  table: {
    what: 'storage account',
    type: 'Microsoft.Storage/storageAccounts',
    access: (call) => {
      if (isWrite(call)) {
        const readOnly = { roles: [TABLE_READER], why: `${TABLE_READER} can only read` };
        return { verb: 'write entities to', fits: [TABLE_CONTRIBUTOR], grant: TABLE_CONTRIBUTOR, opposite: readOnly };
      }
      if (isRead(call)) return { verb: 'read entities from', fits: TABLE_ANY, grant: TABLE_READER };
      return { verb: 'use the tables of', fits: TABLE_ANY, grant: TABLE_CONTRIBUTOR };
    },
  },
  keyVault: {
    what: 'Key Vault',
    type: 'Microsoft.KeyVault/vaults',
    access: (call) => {
      // A certificate's private key is read through /secrets/, which the certificate roles allow.
      if (/\/secrets(\/|$)/i.test(call.path)) return { verb: 'read secrets from', fits: KV_SECRETS, grant: KV_SECRETS_USER, opposite: KV_METADATA_ONLY };
      // A certificate's public part is metadata, which Key Vault Reader may read.
      if (/\/certificates(\/|$)/i.test(call.path)) {
        return { verb: 'read certificates from', fits: [KV_CERT_USER, KV_CERTS_OFFICER, KV_ADMIN, KV_READER], grant: KV_CERT_USER };
      }
      if (/\/keys(\/|$)/i.test(call.path)) {
        return { verb: 'use the keys of', fits: [KV_CRYPTO_USER, KV_CRYPTO_OFFICER, KV_ADMIN], grant: KV_CRYPTO_USER, opposite: KV_METADATA_ONLY };
      }
      return { verb: 'read from', fits: KV_ANY_DATA, grant: KV_SECRETS_USER, opposite: KV_METADATA_ONLY };
    },
  },
  openai: {
    what: 'Azure OpenAI account',
    type: 'Microsoft.CognitiveServices/accounts',
    nameNotInHost: true,
    access: () => ({ verb: 'call', fits: COGNITIVE_FITS, grant: OPENAI_USER, opposite: COGNITIVE_CONTROL }),
  },
  cognitive: {
    what: 'Cognitive Services account',
    type: 'Microsoft.CognitiveServices/accounts',
    nameNotInHost: true,
    access: (call) => {
      const grant = /\/openai(\/|$)/i.test(call.path) ? OPENAI_USER : COGNITIVE_USER;
      return { verb: 'call', fits: COGNITIVE_FITS, grant, opposite: COGNITIVE_CONTROL };
    },
  },
};

/**
 * Role families and the resource types their roles act on, for role-scope-type. `child`: the
 * storage service under an account that the family's roles are for (a scope may name it).
 */
interface RoleFamily {
  what: string;
  type: string;
  child?: string;
  roles: readonly string[];
  /** A role of the family to suggest for a scope of its type. */
  suggest: string;
}

const ROLE_FAMILIES: readonly RoleFamily[] = [
  { what: 'Service Bus', type: 'Microsoft.ServiceBus/namespaces', roles: [SB_SENDER, SB_RECEIVER, SB_OWNER], suggest: SB_SENDER },
  { what: 'Event Hubs', type: 'Microsoft.EventHub/namespaces', roles: [EH_SENDER, EH_RECEIVER, EH_OWNER], suggest: EH_SENDER },
  { what: 'storage blobs', type: 'Microsoft.Storage/storageAccounts', child: 'blobServices', roles: BLOB_ANY, suggest: BLOB_READER },
  { what: 'storage queues', type: 'Microsoft.Storage/storageAccounts', child: 'queueServices', roles: QUEUE_ANY, suggest: QUEUE_CONTRIBUTOR },
  { what: 'storage tables', type: 'Microsoft.Storage/storageAccounts', child: 'tableServices', roles: TABLE_ANY, suggest: TABLE_READER },
  { what: 'Key Vault', type: 'Microsoft.KeyVault/vaults', roles: [...KV_ANY_DATA, KV_READER], suggest: KV_SECRETS_USER },
  {
    what: 'Cognitive Services',
    type: 'Microsoft.CognitiveServices/accounts',
    roles: [OPENAI_USER, OPENAI_CONTRIBUTOR, COGNITIVE_USER, COGNITIVE_CONTRIBUTOR],
    suggest: OPENAI_USER,
  },
];

// --- Scopes ---

interface ScopeResource {
  /** "Microsoft.ServiceBus/namespaces", as written. */
  type: string;
  name: string;
  /** Segments after the name (child type/name pairs). */
  rest: string[];
  /** The scope cut after the resource's name. */
  resourceScope: string;
}

/**
 * The resource a scope names: the last `providers/<namespace>/<type>/<name>`. Undefined for scopes
 * above any resource (subscription, resource group, management group).
 */
function scopeResource(scope: string): ScopeResource | undefined {
  const parts = scope.split('/');
  const i = parts.map((p) => p.toLowerCase()).lastIndexOf('providers');
  if (i < 0 || parts.length < i + 4 || parts[i + 1]!.toLowerCase() === 'microsoft.management') return undefined;
  return { type: `${parts[i + 1]}/${parts[i + 2]}`, name: parts[i + 3]!, rest: parts.slice(i + 4), resourceScope: parts.slice(0, i + 4).join('/') };
}

const sameText = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

// --- Where a token goes ---

/** A URL a token is sent to, as far as it is known. */
interface Target {
  /** The element that sets the URL (set-backend-service or send-request's set-url); undefined when there is none. */
  element?: XmlElement;
  /** The literal URL; undefined when it is an expression or cannot be known. */
  url?: string;
  method?: string;
  /** Path as far as known, with rewrite-uri for the backend. */
  path: string;
}

interface Host {
  endpoint: Endpoint;
  /** The resource's name (lower case); undefined when a named value or template placeholder stands for it. */
  name?: string;
  host: string;
}

/**
 * The known service behind a literal URL. A named value may stand for the resource's name
 * (`{{ns}}.servicebus.windows.net`), not for the rest of the host.
 */
function hostOf(url: string): Host | undefined {
  // Named values may hold dots ({{Account.Name}}): one placeholder character each.
  const authority = (text: string) => /^https?:\/\/([^/?#]+)/i.exec(text)?.[1]?.replace(/:\d+$/, '');
  const masked = authority(url.trim().replace(/\{\{[^}]*\}\}/g, '\u0000'));
  if (!masked) return undefined;
  const host = masked.toLowerCase();
  for (const endpoint of ENDPOINTS) {
    const match = endpoint.host.exec(host);
    if (!match) continue;
    const name = match.groups?.name;
    // Template placeholders of other tools (${ns}, {ns}, %{ns}) are not names either.
    const known = name !== undefined && /^[a-z0-9-]+$/.test(name);
    return { endpoint, host: authority(url.trim())!, ...(known ? { name } : {}) };
  }
  return undefined;
}

const pathOf = (url: string): string => url.replace(/^https?:\/\/[^/?#]*/i, '').replace(/[?#].*$/, '');

/** The sources of the expressions in an element's own attributes and text (not its children's). */
function ownExpressions(element: XmlElement): string[] {
  const segments: Segment[] = element.attributes.flatMap((a) => a.segments);
  for (const c of element.children) if (c.type === 'text') segments.push(...c.segments);
  return segments.flatMap((s) => (s.expression ? [s.source] : []));
}

/** Elements whose content is payload (SOAP, XSLT, Liquid), not policy: an element name there means nothing. */
const PAYLOAD = new Set(['set-body', 'xsl-transform', 'mock-response']);

class DocumentIndex {
  readonly visits: Visit[];

  constructor(doc: PolicyDocument) {
    this.visits = [...visit(doc)].filter((v) => !v.ancestors.some((a) => PAYLOAD.has(a.name)));
  }

  managedIdentities(): Visit[] {
    return this.visits.filter((v) => v.element.name === AMI);
  }

  private nearest(v: Visit, name: string): XmlElement | undefined {
    return [...v.ancestors].reverse().find((a) => a.name === name);
  }

  /** The request a send-request makes. */
  private sendRequestTarget(sendRequest: XmlElement): Target {
    const setUrl = childElements(sendRequest, 'set-url')[0];
    const setMethod = childElements(sendRequest, 'set-method')[0];
    // send-request without set-method sends a GET.
    const method = setMethod ? literalText(setMethod)?.toUpperCase() : 'GET';
    const url = setUrl ? literalText(setUrl) : undefined;
    return { ...(setUrl ? { element: setUrl } : {}), ...(url ? { url } : {}), ...(method ? { method } : {}), path: url ? pathOf(url) : '' };
  }

  /**
   * The backend calls: set-backend-service in inbound or backend (or anywhere in a fragment). In a
   * choose branch that sets its own backend, that one.
   */
  private backendTargets(from: Visit): Target[] {
    const candidates = this.visits.filter(
      (v) => v.element.name === 'set-backend-service' && v.section !== 'outbound' && v.section !== 'on-error' && !this.nearest(v, 'send-request'),
    );
    const branches = [...from.ancestors].reverse().filter((a) => a.name === 'when' || a.name === 'otherwise');
    let chosen = candidates;
    for (const branch of branches) {
      const inside = candidates.filter((c) => c.ancestors.includes(branch));
      if (inside.length) {
        chosen = inside;
        break;
      }
    }
    const inbound = this.visits.filter((v) => v.section === 'inbound' || v.section === undefined);
    const setMethod = inbound.find((v) => v.element.name === 'set-method' && !this.nearest(v, 'send-request') && !this.nearest(v, 'return-response'));
    const method = setMethod ? literalText(setMethod.element)?.toUpperCase() : undefined;
    const rewrite = inbound.find((v) => v.element.name === 'rewrite-uri');
    const template = rewrite ? (literalAttribute(rewrite.element, 'template') ?? '') : '';
    return chosen.map(({ element }) => {
      const url = literalAttribute(element, 'base-url');
      const known = url !== undefined && url.trim() !== '';
      return { element, ...(known ? { url } : {}), ...(method ? { method } : {}), path: (known ? pathOf(url) : '') + template };
    });
  }

  /**
   * Where the token of an authentication-managed-identity goes: its send-request; with
   * output-token-variable-name, the requests whose Authorization header reads that variable;
   * otherwise the backend. [] when nothing can be said; a target without url when some
   * destination is unknown.
   */
  targets(ami: Visit): Target[] {
    const sendRequest = this.nearest(ami, 'send-request');
    if (sendRequest) return [this.sendRequestTarget(sendRequest)];
    const variable = literalAttribute(ami.element, 'output-token-variable-name')?.trim();
    if (variable === undefined) return attrIsExpression(ami.element, 'output-token-variable-name') ? [] : this.backendTargets(ami);
    const quoted = `"${variable}"`;
    const users = this.visits.filter((v) => v.element !== ami.element && ownExpressions(v.element).some((s) => s.includes(quoted)));
    const targets: Target[] = [];
    for (const user of users) {
      // The header element, for `<set-header><value>@(...)</value></set-header>`.
      const header = user.element.name === 'set-header' ? user.element : this.nearest(user, 'set-header');
      const request = this.nearest(user, 'send-request');
      if (header && request) targets.push(this.sendRequestTarget(request));
      else if (header && (user.section === 'inbound' || user.section === 'backend' || user.section === undefined) && !this.nearest(user, 'return-response')) {
        const backend = this.backendTargets(user);
        // No set-backend-service here: the API's own service URL, which only Azure knows.
        targets.push(...(backend.length ? backend : [{ path: '' }]));
      } else targets.push({ path: '' }); // used some other way: the destination is not known
    }
    return targets;
  }
}

// --- The rules ---

const managedIdentityResource: Rule = {
  id: 'managed-identity-resource',
  severity: 'error',
  description: 'authentication-managed-identity names the audience of the service it calls in resource.',
  check({ doc }) {
    return new DocumentIndex(doc)
      .managedIdentities()
      .filter(({ element }) => {
        const a = element.attributes.find((x) => x.name === 'resource');
        return !a || (literalAttribute(element, 'resource') ?? 'expression').trim() === '';
      })
      .map(({ element }) => ({
        at: at(element),
        message:
          'authentication-managed-identity needs resource="<audience>", the audience of the service it calls ' +
          '(e.g. https://servicebus.azure.net/, https://vault.azure.net, https://storage.azure.com/, https://cognitiveservices.azure.com)',
      }));
  },
};

const clientIdExpression: Rule = {
  id: 'managed-identity-client-id-expression',
  severity: 'error',
  description: 'client-id of authentication-managed-identity is not a policy expression (APIM refuses one).',
  check({ doc }) {
    return new DocumentIndex(doc)
      .managedIdentities()
      .filter(({ element }) => attrIsExpression(element, 'client-id'))
      .map(({ element }) => ({
        at: at(element),
        message:
          'client-id does not allow policy expressions (APIM rejects the policy): ' +
          'write the client ID of the user-assigned identity, or a named value {{name}} that holds it',
      }));
  },
};

const audienceMismatch: Rule = {
  id: 'managed-identity-audience',
  severity: 'warning',
  description: 'The resource (audience) of authentication-managed-identity belongs to the service of the backend it authenticates to.',
  check({ doc }) {
    const index = new DocumentIndex(doc);
    const out: Finding[] = [];
    for (const ami of index.managedIdentities()) {
      const audience = literalAttribute(ami.element, 'resource');
      const asked = audience === undefined ? undefined : audienceService(audience);
      if (!asked) continue;
      const targets = index.targets(ami);
      const hosts = targets.map((t) => (t.url === undefined ? undefined : hostOf(t.url)));
      // Only when every destination is a known service and none of them takes this audience.
      if (!hosts.length || hosts.some((h) => !h) || hosts.some((h) => h!.endpoint.service === asked)) continue;
      const host = hosts[0]!;
      const service = SERVICES[host.endpoint.service];
      out.push({
        at: at(ami.element),
        message:
          `resource "${audience}" is the audience of ${SERVICES[asked].label}, but the token goes to ${host.host} (${service.label}): ` +
          `use ${service.suggest}`,
      });
    }
    return out;
  },
};

const regionalEndpoint: Rule = {
  id: 'cognitive-regional-endpoint',
  severity: 'warning',
  description: 'A managed-identity token is not sent to the regional Cognitive Services endpoint, which only takes keys.',
  check({ doc }) {
    const index = new DocumentIndex(doc);
    const seen = new Set<XmlElement>();
    const out: Finding[] = [];
    for (const ami of index.managedIdentities()) {
      for (const target of index.targets(ami)) {
        const host = target.url === undefined ? undefined : hostOf(target.url);
        if (!host?.endpoint.regional || !target.element || seen.has(target.element)) continue;
        seen.add(target.element);
        out.push({
          at: at(target.element),
          message:
            `https://${host.host} is a regional endpoint, which answers Entra (managed identity) tokens with 400 "Resource Id is badly formed": ` +
            "use the resource's custom subdomain, https://<name>.openai.azure.com or https://<name>.cognitiveservices.azure.com",
        });
      }
    }
    return out;
  },
};

/** The identity an authentication-managed-identity uses: the system one without client-id. */
function usesUserAssigned(element: XmlElement): boolean {
  if (attrIsExpression(element, 'client-id')) return true;
  const clientId = literalAttribute(element, 'client-id');
  return clientId !== undefined && clientId.trim() !== '';
}

const identityNotEnabled: Rule = {
  id: 'identity-not-enabled',
  severity: 'error',
  description: 'The managed identity a policy uses is enabled in identity.yaml.',
  check({ doc, identity }) {
    if (!identity) return [];
    const out: Finding[] = [];
    for (const { element } of new DocumentIndex(doc).managedIdentities()) {
      if (!usesUserAssigned(element) && identity.systemAssigned === false) {
        out.push({
          at: at(element),
          message:
            'authentication-managed-identity without client-id uses the system-assigned identity, but identity.yaml sets systemAssigned: false: ' +
            'set identity.systemAssigned: true, or add client-id with the client ID of a user-assigned identity',
        });
      } else if (usesUserAssigned(element) && identity.userAssignedDeclared && identity.userAssigned.length === 0) {
        out.push({
          at: at(element),
          message:
            'client-id selects a user-assigned identity, but identity.yaml attaches none (identity.userAssigned is empty): ' +
            'add the identity under identity.userAssigned, or remove client-id to use the system-assigned identity',
        });
      }
    }
    return out;
  },
};

interface UsedIdentity {
  /** For messages: "the system-assigned identity". */
  who: string;
  /** The `identity:` of the entry to suggest. */
  entry: string;
  aliases: string[];
  specs: RoleAssignmentSpec[];
}

/** The assignments of the identity an AMI uses; undefined when the manifest does not manage that identity. */
function assignmentsFor(element: XmlElement, identity: IdentityManifest): UsedIdentity | undefined {
  if (!usesUserAssigned(element)) {
    if (identity.systemAssigned === false) return undefined; // identity-not-enabled says so
    return { who: 'the system-assigned identity', entry: 'system', aliases: [], specs: identity.roleAssignments.filter((r) => r.identity === 'system') };
  }
  // Offline we cannot tell which user-assigned identity a client ID belongs to: any of them will do.
  if (!identity.userAssignedDeclared || identity.userAssigned.length === 0) return undefined;
  const aliases = identity.userAssigned.map((u) => u.alias);
  const who = aliases.length === 1 ? `the user-assigned identity ${aliases[0]}` : `the user-assigned identities (${aliases.join(', ')})`;
  return { who, entry: aliases.length === 1 ? aliases[0]! : '<alias>', aliases, specs: identity.roleAssignments.filter((r) => r.identity !== 'system') };
}

const missingDataRole: Rule = {
  id: 'missing-data-role',
  severity: 'warning',
  description: 'The identity a policy calls a service with has a data-plane role there in identity.yaml that allows the call.',
  check({ doc, identity }) {
    if (!identity) return [];
    const index = new DocumentIndex(doc);
    const out: Finding[] = [];
    for (const ami of index.managedIdentities()) {
      const mine = assignmentsFor(ami.element, identity);
      if (!mine) continue;
      const audience = literalAttribute(ami.element, 'resource');
      const asked = audience === undefined ? undefined : audienceService(audience);
      if (audience !== undefined && !asked) continue; // an app-ID URI or an audience we do not know: not a call we can judge
      const reported = new Set<string>();
      for (const target of index.targets(ami)) {
        const host = target.url === undefined ? undefined : hostOf(target.url);
        const planeId = host?.endpoint.plane;
        // A token for another service does not reach this one's data plane: managed-identity-audience says so.
        if (!host || !planeId || (asked && asked !== host.endpoint.service)) continue;
        // The Event Hubs audience tells an Event Hubs namespace from a Service Bus one behind the same host suffix.
        const eventHubs = planeId === 'serviceBus' && audience !== undefined && normaliseAudience(audience) === 'https://eventhubs.azure.net';
        const plane = DATA_PLANES[eventHubs ? 'eventHubs' : planeId];
        const access = plane.access({ path: target.path, ...(target.method ? { method: target.method } : {}) });
        const types = [plane.type, ...(plane.alsoTypes ?? [])];
        const covering = mine.specs.filter((spec) => {
          const r = scopeResource(spec.scope);
          if (!r) return true; // a resource group or subscription may hold the resource
          return host.name !== undefined && !plane.nameNotInHost ? sameText(r.name, host.name) : types.some((t) => sameText(t, r.type));
        });
        const names = covering.map(roleName);
        // A custom role or a built-in we do not list may well allow it.
        if (names.some((n) => n === undefined || access.fits.includes(n))) continue;
        const resource = host.name !== undefined ? `${plane.what} ${host.name}` : `the ${plane.what} at ${host.host}`;
        const key = `${resource}\n${access.grant}`;
        if (reported.has(key)) continue;
        reported.add(key);
        // The resource ID when another assignment names the resource already; placeholders otherwise.
        const known = identity.roleAssignments
          .map((s) => scopeResource(s.scope))
          .find((r) => r && host.name !== undefined && sameText(r.name, host.name) && types.some((t) => sameText(t, r.type)));
        const scope = known?.resourceScope ?? `/subscriptions/<subscription-id>/resourceGroups/<group>/providers/${plane.type}/${host.name ?? '<name>'}`;
        const fix = `grant ${access.grant}: add "- { identity: ${mine.entry}, role: ${access.grant}, scope: ${scope} }" to roleAssignments in identity.yaml`;
        let message: string;
        if (!covering.length) {
          message =
            mine.aliases.length > 1
              ? `none of ${mine.who} has a role on ${resource} in identity.yaml, and the policy needs one to ${access.verb} it; ${fix}`
              : `${mine.who} has no role on ${resource} in identity.yaml, and the policy needs one to ${access.verb} it; ${fix}`;
        } else {
          const held = [...new Set(names as string[])];
          const lines = covering.map((s) => s.at.line);
          // The mistake SCENARIOS.md names (Receiver for Sender, a control-plane role) gets its own words.
          const why = held.every((n) => access.opposite?.roles.includes(n))
            ? access.opposite!.why
            : `${held.length === 1 ? 'it does' : 'they do'} not allow the policy to ${access.verb} it`;
          const where = `identity.yaml line${lines.length > 1 ? 's' : ''} ${lines.join(', ')}`;
          message = `${mine.who} ${mine.aliases.length > 1 ? 'have' : 'has'} only ${held.join(', ')} on ${resource} (${where}): ${why}; ${fix}`;
        }
        out.push({ at: at(ami.element), message });
      }
    }
    return out;
  },
};

const roleScopeType: Rule = {
  id: 'role-scope-type',
  severity: 'warning',
  description: "A data role in identity.yaml is assigned on a resource of the type it is for (a Service Bus role on a namespace, not on a Key Vault).",
  checkTree({ identity }) {
    if (!identity) return [];
    const out: FileFinding[] = [];
    for (const spec of identity.roleAssignments) {
      const name = roleName(spec);
      const family = name === undefined ? undefined : ROLE_FAMILIES.find((f) => f.roles.includes(name));
      const resource = scopeResource(spec.scope);
      if (!family || !resource) continue;
      const child = resource.rest[0];
      const typeFits = sameText(resource.type, family.type);
      const childFits = !family.child || child === undefined || sameText(child, family.child);
      if (typeFits && childFits) continue;
      const scopeType = child !== undefined ? `${resource.type}/${child}` : resource.type;
      const other = ROLE_FAMILIES.find((f) => sameText(f.type, resource.type) && (!f.child || child === undefined || sameText(child, f.child)));
      out.push({
        file: identity.file,
        at: { line: spec.at.line, column: spec.at.column },
        message:
          `${name} is for ${family.what}, but the scope is a ${scopeType} resource, where it grants nothing: ` +
          `scope it to a ${family.type} resource (or its resource group)${other ? `, or choose a role for ${scopeType} such as ${other.suggest}` : ''}`,
      });
    }
    return out;
  },
};

export const IDENTITY_RULES: Rule[] = [
  managedIdentityResource,
  clientIdExpression,
  audienceMismatch,
  regionalEndpoint,
  identityNotEnabled,
  missingDataRole,
  roleScopeType,
];
