/**
 * The managed-identity lint rules (src/lint/rules/identity.ts): authentication-managed-identity as
 * APIM accepts it, its audience against the service the token goes to, the regional Cognitive
 * Services endpoint, and — with an identity.yaml — the identity being enabled, holding a fitting
 * data role on a covering scope, and data roles on scopes of their own resource type. Each rule has
 * cases that must fire (exact message, line and column) and cases that must stay quiet.
 */
import { relative } from 'node:path';
import { loadDesiredTree } from '../../src/desired/load-desired.js';
import { lintTree } from '../../src/lint/index.js';
import { IDENTITY_RULES } from '../../src/lint/rules/identity.js';
import { makeTree, policy } from '../helpers/tree.js';

const SUB = '00000000-0000-0000-0000-000000000000';
const RG = `/subscriptions/${SUB}/resourceGroups/rg-integration`;
const SB = `${RG}/providers/Microsoft.ServiceBus/namespaces/sb-orders`;
const KV = `${RG}/providers/Microsoft.KeyVault/vaults/kv-secrets`;
const STORAGE = `${RG}/providers/Microsoft.Storage/storageAccounts/stfiles`;
const OPENAI = `${RG}/providers/Microsoft.CognitiveServices/accounts/contoso-openai`;
const UAMI = `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-openai`;
const UAMI2 = `/subscriptions/${SUB}/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-search`;
const API = 'apis/orders/policy.xml';

/** A policy whose inbound section holds these lines: line i (0-based) is line 3 + i, its text starts at column 9. */
const inbound = (...lines: string[]) => policy(lines.join('\n        '));

/** identity.yaml: the identity block (its lines as given) and role assignments of three lines each, the first starting right after it. */
function manifest(identity: string[], roles: Array<[identity: string, role: string, scope: string]> = []): string {
  const assignments = roles.flatMap(([who, role, scope]) => [`  - identity: ${who}`, `    role: ${role}`, `    scope: ${scope}`]);
  return [...identity, ...(roles.length ? ['roleAssignments:', ...assignments] : [])].join('\n') + '\n';
}

const SYSTEM_ON = ['identity:', '  systemAssigned: true'];
/** Role assignment n (0-based) of a manifest with this identity block starts at this line. */
const roleLine = (identity: string[], n: number) => identity.length + 2 + 3 * n;

/** `file:line:column severity rule: message` of every finding of the identity rules; the tree itself must load cleanly. */
async function lint(files: Record<string, string>): Promise<string[]> {
  const root = makeTree(files);
  const tree = await loadDesiredTree(root);
  expect(tree.diagnostics).toEqual([]);
  return lintTree(tree, { rules: IDENTITY_RULES }).map((d) => `${relative(root, d.file)}:${d.line}:${d.column} ${d.severity} ${d.rule}: ${d.message}`);
}

/** Findings of one rule only. */
async function lintRule(rule: string, files: Record<string, string>): Promise<string[]> {
  return (await lint(files)).filter((f) => f.includes(` ${rule}: `));
}

describe('the rules', () => {
  it('have kebab-case ids, distinct, with a severity and a one-line description', () => {
    const ids = IDENTITY_RULES.map((r) => r.id);
    expect(ids).toEqual([
      'managed-identity-resource',
      'managed-identity-client-id-expression',
      'managed-identity-audience',
      'cognitive-regional-endpoint',
      'identity-not-enabled',
      'missing-data-role',
      'role-scope-type',
      'unknown-role',
    ]);
    expect(IDENTITY_RULES.map((r) => r.severity)).toEqual(['error', 'error', 'warning', 'warning', 'warning', 'warning', 'warning', 'warning']);
    for (const r of IDENTITY_RULES) {
      expect(r.id).toMatch(/^[a-z]+(-[a-z]+)*$/);
      expect(r.description).toMatch(/^\S.*\.$/);
      expect(r.description).not.toContain('\n');
    }
  });
});

describe('managed-identity-resource', () => {
  const message =
    'authentication-managed-identity needs resource="<audience>", the audience of the service it calls ' +
    '(e.g. https://servicebus.azure.net/, https://vault.azure.net, https://storage.azure.com/, https://cognitiveservices.azure.com)';

  it('fires without resource, with an empty one, and inside send-request', async () => {
    expect(
      await lintRule('managed-identity-resource', {
        [API]: inbound(
          '<authentication-managed-identity />',
          '<authentication-managed-identity resource="  " client-id="{{uami-client-id}}" />',
          '<send-request mode="new" response-variable-name="r">',
          '    <set-url>https://kv-secrets.vault.azure.net/secrets/s?api-version=7.4</set-url>',
          '    <authentication-managed-identity resource="" />',
          '</send-request>',
        ),
      }),
    ).toEqual([`${API}:3:9 error managed-identity-resource: ${message}`, `${API}:4:9 error managed-identity-resource: ${message}`, `${API}:7:13 error managed-identity-resource: ${message}`]);
  });

  it('accepts any audience: literal, app-ID URI, named value, expression', async () => {
    expect(
      await lint({
        [API]: inbound(
          '<authentication-managed-identity resource="https://storage.azure.com/" />',
          '<authentication-managed-identity resource="api://orders-backend" />',
          '<authentication-managed-identity resource="{{backend-audience}}" output-token-variable-name="t" />',
          '<authentication-managed-identity resource="@(context.Variables.GetValueOrDefault<string>("aud"))" output-token-variable-name="u" />',
        ),
      }),
    ).toEqual([]);
  });
});

describe('managed-identity-client-id-expression', () => {
  it('fires on a policy expression in client-id, raw or escaped', async () => {
    const message = 'client-id does not allow policy expressions (APIM rejects the policy): ' + 'write the client ID of the user-assigned identity, or a named value {{name}} that holds it';
    expect(
      await lintRule('managed-identity-client-id-expression', {
        [API]: inbound(
          '<authentication-managed-identity resource="https://vault.azure.net" client-id="@(context.Variables.GetValueOrDefault<string>("uami"))" />',
          '<authentication-managed-identity resource="https://vault.azure.net" client-id="@((string)context.Variables[&quot;uami&quot;])" />',
        ),
      }),
    ).toEqual([`${API}:3:9 error managed-identity-client-id-expression: ${message}`, `${API}:4:9 error managed-identity-client-id-expression: ${message}`]);
  });

  it('accepts a literal client ID and a named value', async () => {
    expect(
      await lint({
        [API]: inbound(
          '<authentication-managed-identity resource="https://vault.azure.net" client-id="6f0e1f0a-1b2c-4d5e-8f90-a1b2c3d4e5f6" />',
          '<authentication-managed-identity resource="https://vault.azure.net" client-id="{{openai-identity-client-id}}" />',
        ),
      }),
    ).toEqual([]);
  });
});

describe('managed-identity-audience', () => {
  it('fires when the backend is another known service', async () => {
    expect(
      await lintRule('managed-identity-audience', {
        [API]: inbound(
          '<set-backend-service base-url="https://sb-orders.servicebus.windows.net" />',
          '<rewrite-uri template="/orders/messages" />',
          '<authentication-managed-identity resource="https://vault.azure.net" />',
        ),
      }),
    ).toEqual([
      `${API}:5:9 warning managed-identity-audience: resource "https://vault.azure.net" is the audience of Key Vault, but the token goes to ` +
        'sb-orders.servicebus.windows.net (Service Bus / Event Hubs): use resource="https://servicebus.azure.net/" ' +
        '(for an Event Hubs namespace, resource="https://eventhubs.azure.net/")',
    ]);
  });

  it("fires for a send-request's own URL, and where an output token variable is sent", async () => {
    expect(
      await lintRule('managed-identity-audience', {
        [API]: inbound(
          '<send-request mode="new" response-variable-name="secret">',
          '    <set-url>https://kv-secrets.vault.azure.net/secrets/api-key?api-version=7.4</set-url>',
          '    <set-method>GET</set-method>',
          '    <authentication-managed-identity resource="https://STORAGE.azure.com/" />',
          '</send-request>',
          '<authentication-managed-identity resource="https://stfiles.blob.core.windows.net" output-token-variable-name="kv-token" />',
          '<send-request mode="new" response-variable-name="other">',
          '    <set-url>https://kv-secrets.vault.azure.net/secrets/other?api-version=7.4</set-url>',
          '    <set-header name="Authorization" exists-action="override">',
          '        <value>@("Bearer " + (string)context.Variables["kv-token"])</value>',
          '    </set-header>',
          '</send-request>',
        ),
      }),
    ).toEqual([
      `${API}:6:13 warning managed-identity-audience: resource "https://STORAGE.azure.com/" is the audience of Azure Storage, but the token goes to ` +
        'kv-secrets.vault.azure.net (Key Vault): use resource="https://vault.azure.net"',
      `${API}:8:9 warning managed-identity-audience: resource "https://stfiles.blob.core.windows.net" is the audience of Azure Storage, ` +
        'but the token goes to kv-secrets.vault.azure.net (Key Vault): use resource="https://vault.azure.net"',
    ]);
  });

  it('takes the backend of the choose branch the identity is in', async () => {
    expect(
      await lintRule('managed-identity-audience', {
        [API]: inbound(
          '<choose>',
          '    <when condition="@(context.Request.Method == "GET")">',
          '        <set-backend-service base-url="https://kv-secrets.vault.azure.net" />',
          '        <authentication-managed-identity resource="https://servicebus.azure.net/" />',
          '    </when>',
          '    <otherwise>',
          '        <set-backend-service base-url="https://sb-orders.servicebus.windows.net" />',
          '        <authentication-managed-identity resource="https://servicebus.azure.net/" />',
          '    </otherwise>',
          '</choose>',
        ),
      }),
    ).toEqual([
      `${API}:6:17 warning managed-identity-audience: resource "https://servicebus.azure.net/" is the audience of Service Bus / Event Hubs, ` +
        'but the token goes to kv-secrets.vault.azure.net (Key Vault): use resource="https://vault.azure.net"',
    ]);
  });

  it('accepts case and trailing-slash variants, both Service Bus audiences, a storage account endpoint', async () => {
    const cases: Array<[string, string]> = [
      ['https://sb-orders.servicebus.windows.net', 'https://servicebus.azure.net/'],
      ['https://sb-orders.servicebus.windows.net/', 'HTTPS://ServiceBus.Azure.Net'],
      ['https://{{servicebus-namespace}}.servicebus.windows.net', 'https://eventhubs.azure.net'],
      ['https://kv-secrets.vault.azure.net/', 'https://vault.azure.net/'],
      ['https://stfiles.blob.core.windows.net/container', 'https://storage.azure.com'],
      ['https://stfiles.queue.core.windows.net', 'https://stfiles.queue.core.windows.net/'],
      ['https://contoso-openai.openai.azure.com/openai', 'https://cognitiveservices.azure.com/'],
      ['https://contoso-ai.cognitiveservices.azure.com', 'https://CognitiveServices.azure.com'],
      ['https://sql-orders.database.windows.net', 'https://database.windows.net/'],
      ['https://management.azure.com/subscriptions/x', 'https://management.azure.com'],
    ];
    for (const [backend, audience] of cases) {
      const files = { [API]: inbound(`<set-backend-service base-url="${backend}" />`, `<authentication-managed-identity resource="${audience}" />`) };
      expect(await lint(files)).toEqual([]);
    }
  });

  it('stays quiet on audiences it cannot judge and backends it cannot know', async () => {
    const cases: Array<[string, string]> = [
      // app-ID URIs, GUIDs, audiences of services it does not map, named values, expressions
      ['https://sb-orders.servicebus.windows.net', 'api://orders-backend'],
      ['https://sb-orders.servicebus.windows.net', '6f0e1f0a-1b2c-4d5e-8f90-a1b2c3d4e5f6'],
      ['https://sb-orders.servicebus.windows.net', 'https://cosmos.azure.com'],
      ['https://sb-orders.servicebus.windows.net', '{{servicebus-audience}}'],
      ['https://sb-orders.servicebus.windows.net', '@((string)context.Variables["aud"])'],
      // backends that are named values, expressions or hosts it does not know
      ['{{orders-backend-url}}', 'https://vault.azure.net'],
      ['{{orders-host}}/api', 'https://vault.azure.net'],
      ['@((string)context.Variables["backend"])', 'https://vault.azure.net'],
      ['https://orders.contoso.com', 'https://vault.azure.net'],
      ['https://stfiles.file.core.windows.net.contoso.com', 'https://vault.azure.net'],
    ];
    for (const [backend, audience] of cases) {
      const files = { [API]: inbound(`<set-backend-service base-url="${backend}" />`, `<authentication-managed-identity resource="${audience}" />`) };
      expect(await lint(files)).toEqual([]);
    }
  });

  it('stays quiet without a known destination: no backend, backend-id, a token used elsewhere, two branches one of which fits', async () => {
    const trees = [
      inbound('<authentication-managed-identity resource="https://vault.azure.net" />'),
      inbound('<set-backend-service backend-id="orders" />', '<authentication-managed-identity resource="https://vault.azure.net" />'),
      // the token is returned to the caller, not sent to the backend
      inbound(
        '<set-backend-service base-url="https://sb-orders.servicebus.windows.net" />',
        '<authentication-managed-identity resource="https://vault.azure.net" output-token-variable-name="t" />',
        '<return-response>',
        '    <set-body>@((string)context.Variables["t"])</set-body>',
        '</return-response>',
      ),
      // a token variable nobody reads
      inbound(
        '<set-backend-service base-url="https://sb-orders.servicebus.windows.net" />',
        '<authentication-managed-identity resource="https://vault.azure.net" output-token-variable-name="unused" />',
      ),
      inbound(
        '<choose>',
        '    <when condition="@(context.Request.Method == "GET")">',
        '        <set-backend-service base-url="https://kv-secrets.vault.azure.net" />',
        '    </when>',
        '    <otherwise>',
        '        <set-backend-service base-url="https://sb-orders.servicebus.windows.net" />',
        '    </otherwise>',
        '</choose>',
        '<authentication-managed-identity resource="https://vault.azure.net" />',
      ),
      // send-request whose URL is an expression
      inbound(
        '<send-request mode="new" response-variable-name="r">',
        '    <set-url>@("https://" + (string)context.Variables["vault"] + ".vault.azure.net/secrets/s")</set-url>',
        '    <authentication-managed-identity resource="https://servicebus.azure.net/" />',
        '</send-request>',
      ),
    ];
    for (const text of trees) expect(await lint({ [API]: text })).toEqual([]);
  });
});

describe('cognitive-regional-endpoint', () => {
  const message = (host: string) =>
    `https://${host} is a regional endpoint, which answers Entra (managed identity) tokens with 400 "Resource Id is badly formed": ` +
    "use the resource's custom subdomain, https://<name>.openai.azure.com or https://<name>.cognitiveservices.azure.com";

  it('fires at the backend and at a send-request URL that get a managed-identity token', async () => {
    expect(
      await lintRule('cognitive-regional-endpoint', {
        [API]: inbound(
          '<set-backend-service base-url="https://eastus.api.cognitive.microsoft.com/openai" />',
          '<authentication-managed-identity resource="https://cognitiveservices.azure.com" />',
          '<send-request mode="new" response-variable-name="moderation">',
          '    <set-url>https://westeurope.api.cognitive.microsoft.com/contentsafety/text:analyze?api-version=2023-10-01</set-url>',
          '    <set-method>POST</set-method>',
          '    <authentication-managed-identity resource="https://cognitiveservices.azure.com" />',
          '</send-request>',
        ),
      }),
    ).toEqual([
      `${API}:3:9 warning cognitive-regional-endpoint: ${message('eastus.api.cognitive.microsoft.com')}`,
      `${API}:6:13 warning cognitive-regional-endpoint: ${message('westeurope.api.cognitive.microsoft.com')}`,
    ]);
  });

  it('stays quiet for custom subdomains and for the regional endpoint with a key', async () => {
    expect(
      await lint({
        [API]: inbound('<set-backend-service base-url="https://contoso-openai.openai.azure.com/openai" />', '<authentication-managed-identity resource="https://cognitiveservices.azure.com" />'),
        'apis/keyed/policy.xml': inbound(
          '<set-backend-service base-url="https://eastus.api.cognitive.microsoft.com/" />',
          '<set-header name="Ocp-Apim-Subscription-Key" exists-action="override">',
          '    <value>{{cognitive-key}}</value>',
          '</set-header>',
        ),
      }),
    ).toEqual([]);
  });
});

describe('identity-not-enabled', () => {
  it('fires on the system identity when identity.yaml turns it off, and on client-id when it attaches no user-assigned identity', async () => {
    expect(
      await lintRule('identity-not-enabled', {
        'identity.yaml': manifest(['identity:', '  systemAssigned: false', '  userAssigned: {}']),
        [API]: inbound(
          '<authentication-managed-identity resource="https://vault.azure.net" />',
          '<authentication-managed-identity resource="https://vault.azure.net" client-id="{{uami-client-id}}" />',
        ),
      }),
    ).toEqual([
      `${API}:3:9 warning identity-not-enabled: authentication-managed-identity without client-id uses the system-assigned identity, but identity.yaml ` +
        `sets systemAssigned: false, so the policy gets no token: ` +
        'set identity.systemAssigned: true, or add client-id with the client ID of a user-assigned identity',
      `${API}:4:9 warning identity-not-enabled: client-id selects a user-assigned identity, but identity.yaml attaches none (identity.userAssigned is empty), so the policy gets no token: ` +
        'add the identity under identity.userAssigned, or remove client-id to use the system-assigned identity',
    ]);
  });

  it('stays quiet when the manifest does not say, when the identity is there, and without identity.yaml', async () => {
    const policyXml = inbound(
      '<authentication-managed-identity resource="https://vault.azure.net" />',
      '<authentication-managed-identity resource="https://vault.azure.net" client-id="{{uami-client-id}}" />',
    );
    const clientOnly = inbound('<authentication-managed-identity resource="https://vault.azure.net" client-id="{{uami-client-id}}" />');
    const systemOnly = inbound('<authentication-managed-identity resource="https://vault.azure.net" client-id="" />');
    expect(await lintRule('identity-not-enabled', { [API]: policyXml })).toEqual([]);
    expect(await lintRule('identity-not-enabled', { 'identity.yaml': manifest(['identity: {}']), [API]: policyXml })).toEqual([]);
    const withUser = (system: boolean) => manifest(['identity:', `  systemAssigned: ${system}`, '  userAssigned:', `    openai: ${UAMI}`]);
    expect(await lintRule('identity-not-enabled', { 'identity.yaml': withUser(true), [API]: policyXml })).toEqual([]);
    expect(await lintRule('identity-not-enabled', { 'identity.yaml': withUser(false), [API]: clientOnly })).toEqual([]);
    // an empty client-id is no client-id: the system identity, which is on
    expect(await lintRule('identity-not-enabled', { 'identity.yaml': manifest([...SYSTEM_ON, '  userAssigned: {}']), [API]: systemOnly })).toEqual([]);
  });
});

describe('missing-data-role', () => {
  const sendToServiceBus = inbound(
    '<set-backend-service base-url="https://sb-orders.servicebus.windows.net" />',
    '<rewrite-uri template="/orders/messages" />',
    '<set-method>POST</set-method>',
    '<authentication-managed-identity resource="https://servicebus.azure.net/" />',
  );
  const sbFix = (scope: string) => 'grant Azure Service Bus Data Sender: ' + `add "- { identity: system, role: Azure Service Bus Data Sender, scope: ${scope} }" to roleAssignments in identity.yaml`;
  const sbPlaceholder = '/subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ServiceBus/namespaces/sb-orders';

  it('fires when the system identity has no role on the namespace it sends to', async () => {
    expect(
      await lintRule('missing-data-role', {
        'identity.yaml': manifest(SYSTEM_ON, [['system', 'Key Vault Secrets User', KV]]),
        [API]: sendToServiceBus,
      }),
    ).toEqual([
      `${API}:6:9 warning missing-data-role: the system-assigned identity has no role on Service Bus namespace sb-orders in identity.yaml, ` +
        `and the policy needs one to send messages to it; ${sbFix(sbPlaceholder)}`,
    ]);
  });

  it('says that Data Receiver cannot send, with the resource ID identity.yaml already has', async () => {
    expect(
      await lintRule('missing-data-role', {
        'identity.yaml': manifest(SYSTEM_ON, [['system', 'Azure Service Bus Data Receiver', `${SB}/queues/orders`]]),
        [API]: sendToServiceBus,
      }),
    ).toEqual([
      `${API}:6:9 warning missing-data-role: the system-assigned identity has only Azure Service Bus Data Receiver on Service Bus namespace sb-orders ` +
        `(identity.yaml line ${roleLine(SYSTEM_ON, 0)}): Data Receiver cannot send; ${sbFix(SB)}`,
    ]);
  });

  it('knows a receive (DELETE or .../messages/head) from a send', async () => {
    const receive = (method: string, path: string) =>
      inbound(
        '<set-backend-service base-url="https://sb-orders.servicebus.windows.net" />',
        `<rewrite-uri template="${path}" />`,
        `<set-method>${method}</set-method>`,
        '<authentication-managed-identity resource="https://servicebus.azure.net/" />',
      );
    const senderOnly = manifest(SYSTEM_ON, [['system', 'Azure Service Bus Data Sender', SB]]);
    const message =
      `${API}:6:9 warning missing-data-role: the system-assigned identity has only Azure Service Bus Data Sender on Service Bus namespace sb-orders ` +
      `(identity.yaml line ${roleLine(SYSTEM_ON, 0)}): Data Sender cannot receive; ` +
      'grant Azure Service Bus Data Receiver: ' +
      `add "- { identity: system, role: Azure Service Bus Data Receiver, scope: ${SB} }" to roleAssignments in identity.yaml`;
    expect(await lintRule('missing-data-role', { 'identity.yaml': senderOnly, [API]: receive('DELETE', '/orders/messages/head') })).toEqual([message]);
    expect(await lintRule('missing-data-role', { 'identity.yaml': senderOnly, [API]: receive('POST', '/orders/messages/head') })).toEqual([message]);
    expect(await lintRule('missing-data-role', { 'identity.yaml': senderOnly, [API]: receive('POST', '/orders/messages') })).toEqual([]);
  });

  it('fires on control-plane roles, and when the role is granted to the other identity', async () => {
    const identity = [...SYSTEM_ON, '  userAssigned:', `    openai: ${UAMI}`];
    expect(
      await lint({
        'identity.yaml': manifest(identity, [
          ['system', 'Contributor', `/subscriptions/${SUB}/resourceGroups/rg-integration`],
          ['system', 'Cognitive Services OpenAI User', OPENAI],
          ['openai', 'Cognitive Services Contributor', OPENAI],
        ]),
        [API]: sendToServiceBus,
        'apis/chat/policy.xml': inbound(
          '<set-backend-service base-url="https://contoso-openai.openai.azure.com/openai" />',
          '<authentication-managed-identity resource="https://cognitiveservices.azure.com" client-id="{{openai-identity-client-id}}" />',
        ),
      }),
    ).toEqual([
      'apis/chat/policy.xml:4:9 warning missing-data-role: the user-assigned identity openai has only Cognitive Services Contributor ' +
        `on Azure OpenAI account contoso-openai (identity.yaml line ${roleLine(identity, 2)}): ` +
        'Cognitive Services Contributor manages the account but has no data access; grant Cognitive Services OpenAI User: ' +
        `add "- { identity: openai, role: Cognitive Services OpenAI User, scope: ${OPENAI} }" to roleAssignments in identity.yaml`,
      `${API}:6:9 warning missing-data-role: the system-assigned identity has only Contributor on Service Bus namespace sb-orders ` +
        `(identity.yaml line ${roleLine(identity, 0)}): it does not allow the policy to send messages to it; ${sbFix(sbPlaceholder)}`,
    ]);
  });

  it('names every user-assigned identity when none has a role, and reads what the call does', async () => {
    const identity = [...SYSTEM_ON, '  userAssigned:', `    openai: ${UAMI}`, `    search: ${UAMI2}`];
    expect(
      await lintRule('missing-data-role', {
        'identity.yaml': manifest(identity, [['search', 'Storage Blob Data Reader', STORAGE]]),
        [API]: inbound(
          '<send-request mode="new" response-variable-name="upload">',
          '    <set-url>https://stfiles.blob.core.windows.net/uploads/report.json</set-url>',
          '    <set-method>PUT</set-method>',
          '    <authentication-managed-identity resource="https://storage.azure.com/" client-id="{{uami-client-id}}" />',
          '</send-request>',
          '<send-request mode="new" response-variable-name="secret">',
          '    <set-url>https://kv-secrets.vault.azure.net/secrets/api-key?api-version=7.4</set-url>',
          '    <authentication-managed-identity resource="https://vault.azure.net" client-id="{{uami-client-id}}" />',
          '</send-request>',
        ),
      }),
    ).toEqual([
      `${API}:6:13 warning missing-data-role: the user-assigned identities (openai, search) have only Storage Blob Data Reader on storage account stfiles ` +
        `(identity.yaml line ${roleLine(identity, 0)}): Storage Blob Data Reader can only read; ` +
        'grant Storage Blob Data Contributor: ' +
        `add "- { identity: <alias>, role: Storage Blob Data Contributor, scope: ${STORAGE} }" to roleAssignments in identity.yaml`,
      `${API}:10:13 warning missing-data-role: none of the user-assigned identities (openai, search) has a role on Key Vault kv-secrets in identity.yaml, ` +
        'and the policy needs one to read secrets from it; grant Key Vault Secrets User: add "- { identity: <alias>, role: Key Vault Secrets User, ' +
        'scope: /subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/kv-secrets }" to roleAssignments in identity.yaml',
    ]);
  });

  it('accepts a fitting role on the resource, a child of it, or a broader scope; by name, GUID or any letter case', async () => {
    const fitting: Array<[string, string]> = [
      ['Azure Service Bus Data Sender', SB],
      ['azure service bus data sender', SB.replace('sb-orders', 'SB-ORDERS')],
      ['69a216fc-b8fb-44d8-bc22-1f3c2cd27a39', SB],
      [`/subscriptions/${SUB}/providers/Microsoft.Authorization/roleDefinitions/69a216fc-b8fb-44d8-bc22-1f3c2cd27a39`, SB],
      ['Azure Service Bus Data Owner', `${SB}/queues/orders`],
      ['Azure Event Hubs Data Sender', SB],
      ['Azure Service Bus Data Sender', RG],
      ['Azure Service Bus Data Sender', `/subscriptions/${SUB}`],
      ['Azure Service Bus Data Sender', '/providers/Microsoft.Management/managementGroups/mg-contoso'],
      // a custom role (or a built-in it does not list) may well allow it
      ['Orders Queue Writer', SB],
    ];
    for (const [role, scope] of fitting) {
      expect(await lintRule('missing-data-role', { 'identity.yaml': manifest(SYSTEM_ON, [['system', role, scope]]), [API]: sendToServiceBus })).toEqual([]);
    }
  });

  it('accepts the sample scenarios: a named-value namespace, OpenAI through one of several user-assigned identities, Key Vault certificates', async () => {
    const identity = [...SYSTEM_ON, '  userAssigned:', `    openai: ${UAMI}`, `    search: ${UAMI2}`];
    expect(
      await lint({
        'identity.yaml': manifest(identity, [
          ['system', 'Azure Service Bus Data Sender', SB],
          ['openai', 'Cognitive Services User', OPENAI],
          ['system', 'Key Vault Certificate User', KV],
          ['system', 'Storage Blob Data Reader', STORAGE],
        ]),
        [API]: inbound('<set-backend-service base-url="https://{{servicebus-namespace}}.servicebus.windows.net" />', '<authentication-managed-identity resource="https://servicebus.azure.net/" />'),
        'apis/chat/policy.xml': inbound(
          '<set-backend-service base-url="https://contoso-openai.openai.azure.com/openai" />',
          '<authentication-managed-identity resource="https://cognitiveservices.azure.com" client-id="{{openai-identity-client-id}}" />',
        ),
        'apis/certs/policy.xml': inbound(
          '<send-request mode="new" response-variable-name="cert">',
          '    <set-url>https://kv-secrets.vault.azure.net/certificates/client-cert?api-version=7.4</set-url>',
          '    <authentication-managed-identity resource="https://vault.azure.net" />',
          '</send-request>',
          '<send-request mode="new" response-variable-name="blob">',
          '    <set-url>https://stfiles.blob.core.windows.net/config/settings.json</set-url>',
          '    <authentication-managed-identity resource="https://storage.azure.com/" />',
          '</send-request>',
        ),
      }),
    ).toEqual([]);
  });

  it('does not take a custom subdomain for the account name, and knows read-access secondary storage endpoints', async () => {
    expect(
      await lint({
        'identity.yaml': manifest(SYSTEM_ON, [
          ['system', 'Cognitive Services OpenAI User', OPENAI],
          ['system', 'Storage Blob Data Reader', STORAGE],
        ]),
        // the account contoso-openai answers at a subdomain chosen freely
        [API]: inbound('<set-backend-service base-url="https://oai-orders-eus.openai.azure.com/openai" />', '<authentication-managed-identity resource="https://cognitiveservices.azure.com" />'),
        'apis/files/policy.xml': inbound(
          '<send-request mode="new" response-variable-name="blob">',
          '    <set-url>https://stfiles-secondary.blob.core.windows.net/config/settings.json</set-url>',
          '    <authentication-managed-identity resource="https://storage.azure.com/" />',
          '</send-request>',
        ),
      }),
    ).toEqual([]);
  });

  it('stays quiet without identity.yaml, for identities identity.yaml does not manage, and for calls it cannot judge', async () => {
    const none = manifest(SYSTEM_ON);
    // no identity.yaml
    expect(await lint({ [API]: sendToServiceBus })).toEqual([]);
    // client-id while identity.yaml leaves user-assigned identities alone
    const withClientId = sendToServiceBus.replace('resource="https://servicebus.azure.net/"', 'resource="https://servicebus.azure.net/" client-id="{{uami}}"');
    expect(await lint({ 'identity.yaml': none, [API]: withClientId })).toEqual([]);
    // an app-ID URI audience, an unknown service, a named-value backend, SQL (no Azure RBAC data role)
    const quiet = [
      inbound('<set-backend-service base-url="https://sb-orders.servicebus.windows.net" />', '<authentication-managed-identity resource="api://orders" />'),
      inbound('<set-backend-service base-url="https://orders.contoso.com" />', '<authentication-managed-identity resource="https://servicebus.azure.net/" />'),
      inbound('<set-backend-service base-url="{{orders-backend}}" />', '<authentication-managed-identity resource="https://servicebus.azure.net/" />'),
      inbound('<set-backend-service base-url="https://sql-orders.database.windows.net" />', '<authentication-managed-identity resource="https://database.windows.net/" />'),
    ];
    for (const text of quiet) expect(await lintRule('missing-data-role', { 'identity.yaml': none, [API]: text })).toEqual([]);
  });
});

describe('role-scope-type', () => {
  it('fires on a data role whose scope is a resource of another type', async () => {
    const text = manifest(SYSTEM_ON, [
      ['system', 'Azure Service Bus Data Sender', `${KV}/secrets/api-key`],
      ['system', 'Key Vault Secrets User', SB],
      ['system', 'Storage Queue Data Contributor', `${STORAGE}/blobServices/default/containers/uploads`],
      ['system', 'Azure Event Hubs Data Sender', `${RG}/providers/Microsoft.Web/sites/orders-func`],
    ]);
    expect(await lintRule('role-scope-type', { 'identity.yaml': text, [API]: inbound() })).toEqual([
      `identity.yaml:${roleLine(SYSTEM_ON, 0)}:5 warning role-scope-type: Azure Service Bus Data Sender is for Service Bus, ` +
        'but the scope is a Microsoft.KeyVault/vaults/secrets resource, where it grants nothing: ' +
        'scope it to a Microsoft.ServiceBus/namespaces resource (or its resource group), ' +
        'or choose a role for Microsoft.KeyVault/vaults/secrets such as Key Vault Secrets User',
      `identity.yaml:${roleLine(SYSTEM_ON, 1)}:5 warning role-scope-type: Key Vault Secrets User is for Key Vault, ` +
        'but the scope is a Microsoft.ServiceBus/namespaces resource, where it grants nothing: ' +
        'scope it to a Microsoft.KeyVault/vaults resource (or its resource group), ' +
        'or choose a role for Microsoft.ServiceBus/namespaces such as Azure Service Bus Data Sender',
      `identity.yaml:${roleLine(SYSTEM_ON, 2)}:5 warning role-scope-type: Storage Queue Data Contributor is for storage queues, ` +
        'but the scope is a Microsoft.Storage/storageAccounts/blobServices resource, where it grants nothing: ' +
        'scope it to a Microsoft.Storage/storageAccounts resource (or its resource group), ' +
        'or choose a role for Microsoft.Storage/storageAccounts/blobServices such as Storage Blob Data Reader',
      `identity.yaml:${roleLine(SYSTEM_ON, 3)}:5 warning role-scope-type: Azure Event Hubs Data Sender is for Event Hubs, ` +
        'but the scope is a Microsoft.Web/sites resource, where it grants nothing: ' +
        'scope it to a Microsoft.EventHub/namespaces resource (or its resource group)',
    ]);
  });

  it('accepts matching types, child scopes, broader scopes, roles of unknown family and custom roles', async () => {
    const text = manifest(SYSTEM_ON, [
      ['system', 'Azure Service Bus Data Sender', SB],
      ['system', 'Azure Service Bus Data Receiver', `${SB.replace('Microsoft.ServiceBus', 'microsoft.servicebus')}/queues/orders`],
      ['system', 'Azure Event Hubs Data Sender', RG],
      ['system', 'Key Vault Secrets User', `/subscriptions/${SUB}`],
      ['system', 'Storage Blob Data Reader', `${STORAGE}/blobServices/default/containers/config`],
      ['system', 'Storage Queue Data Message Sender', STORAGE],
      ['system', 'Cognitive Services OpenAI User', OPENAI],
      ['system', 'Reader', KV],
      ['system', 'Monitoring Metrics Publisher', SB],
      ['system', 'Orders Queue Writer', KV],
    ]);
    expect(await lintRule('role-scope-type', { 'identity.yaml': text, [API]: inbound() })).toEqual([]);
  });
});
