/**
 * The Azure services a policy calls with a managed-identity token: their hosts, the audiences
 * (`resource`) their tokens must carry, and for each data plane the built-in roles that allow a
 * call. What a policy calls is known offline only from literal URLs; hosts not listed here are
 * not judged.
 */
import {
  AI_DEVELOPER,
  AI_USER,
  BLOB_CONTRIBUTOR,
  BLOB_OWNER,
  BLOB_READER,
  COGNITIVE_CONTRIBUTOR,
  COGNITIVE_USER,
  EH_OWNER,
  EH_RECEIVER,
  EH_SENDER,
  KV_ADMIN,
  KV_CERTS_OFFICER,
  KV_CERT_USER,
  KV_CRYPTO_OFFICER,
  KV_CRYPTO_USER,
  KV_READER,
  KV_SECRETS_OFFICER,
  KV_SECRETS_USER,
  OPENAI_CONTRIBUTOR,
  OPENAI_USER,
  QUEUE_CONTRIBUTOR,
  QUEUE_PROCESSOR,
  QUEUE_READER,
  QUEUE_SENDER,
  SB_OWNER,
  SB_RECEIVER,
  SB_SENDER,
  TABLE_CONTRIBUTOR,
  TABLE_READER,
} from './roles.js';

export type ServiceId = 'serviceBus' | 'keyVault' | 'storage' | 'cognitive' | 'sql' | 'arm';

/** The audiences (`resource`) each service accepts, normalised (see normaliseAudience), and the spelling to suggest. */
export const SERVICES: Readonly<Record<ServiceId, { label: string; audiences: readonly string[]; suggest: string }>> = {
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
export type PlaneId = 'serviceBus' | 'eventHubs' | 'blob' | 'queue' | 'table' | 'keyVault' | 'openai' | 'cognitive';

export interface Endpoint {
  /** Matched against the lower-case host; the `name` group is the resource's name. */
  host: RegExp;
  service: ServiceId;
  /** The data plane whose roles the call needs; none for services without Azure RBAC data roles we check. */
  plane?: PlaneId;
  /** The regional Cognitive Services endpoint, which does not take Entra tokens. */
  regional?: boolean;
}

export const ENDPOINTS: readonly Endpoint[] = [
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
export const normaliseAudience = (audience: string): string => audience.trim().toLowerCase().replace(/\/+$/, '');

/** The service a literal audience belongs to, when it is one we know; app-ID URIs, GUIDs and others give undefined. */
export function audienceService(audience: string): ServiceId | undefined {
  const a = normaliseAudience(audience);
  if (STORAGE_ENDPOINT_AUDIENCE.test(a)) return 'storage';
  return (Object.keys(SERVICES) as ServiceId[]).find((id) => SERVICES[id].audiences.includes(a));
}

/** What a call needs from the identity's roles. */
export interface Access {
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
export interface Call {
  method?: string;
  path: string;
}

const isRead = (call: Call) => call.method === 'GET' || call.method === 'HEAD';
const isWrite = (call: Call) => call.method !== undefined && !isRead(call);

export interface DataPlane {
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

export const DATA_PLANES: Readonly<Record<PlaneId, DataPlane>> = {
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
export interface RoleFamily {
  what: string;
  type: string;
  child?: string;
  roles: readonly string[];
  /** A role of the family to suggest for a scope of its type. */
  suggest: string;
}

export const ROLE_FAMILIES: readonly RoleFamily[] = [
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

export interface ServiceHost {
  endpoint: Endpoint;
  /** The resource's name (lower case); undefined when a named value or template placeholder stands for it. */
  name?: string;
  host: string;
}

/**
 * The known service behind a literal URL. A named value may stand for the resource's name
 * (`{{ns}}.servicebus.windows.net`), not for the rest of the host.
 */
export function serviceHostOf(url: string): ServiceHost | undefined {
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

export const pathOf = (url: string): string => url.replace(/^https?:\/\/[^/?#]*/i, '').replace(/[?#].*$/, '');
