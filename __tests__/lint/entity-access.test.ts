/**
 * Issue 16: Key Vault-backed named values against identity.yaml (model/entity-access.ts, run by the
 * plan through plan/entity-access.ts and by lint's key-vault-access), their live refresh status, and
 * backend-id targets of authentication-managed-identity resolved from the tree's backends.
 */
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadDesiredTree } from '../../src/desired/load-desired.js';
import { lintTree } from '../../src/lint/index.js';
import { RULES } from '../../src/lint/rules/index.js';
import type { EntityResource, EntityState } from '../../src/model/entities.js';
import type { IdentityManifest } from '../../src/model/identity.js';
import { checkEntityAccess, keyVaultStatusProblems } from '../../src/plan/entity-access.js';
import { makeTree, policy } from '../helpers/tree.js';

const SUB = '00000000-0000-0000-0000-000000000000';
const SUB_SCOPE = `/subscriptions/${SUB}`;
const RG = `${SUB_SCOPE}/resourceGroups/rg-secrets`;
const KV = `${RG}/providers/Microsoft.KeyVault/vaults/kv-secrets`;
const OTHER_KV = `${RG}/providers/Microsoft.KeyVault/vaults/kv-other`;
const SB = `${RG}/providers/Microsoft.ServiceBus/namespaces/sb-orders`;
const UAMI_A = `${SUB_SCOPE}/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-a`;
const UAMI_B = `${SUB_SCOPE}/resourceGroups/rg-apim/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-b`;
const CLIENT_A = '11111111-1111-1111-1111-111111111111';
const CLIENT_B = '22222222-2222-2222-2222-222222222222';
const SECRET = 'https://kv-secrets.vault.azure.net/secrets/orders-key';
const NV_FILE = 'named values/orders-key/namedValueInformation.json';

function manifestText(roles: Array<[identity: string, role: string, scope: string]>, userAssigned = false): string {
  const identity = ['identity:', '  systemAssigned: true', ...(userAssigned ? ['  userAssigned:', `    id-a: ${UAMI_A}`, `    id-b: ${UAMI_B}`] : [])];
  const assignments = roles.flatMap(([who, role, scope]) => [`  - identity: ${who}`, `    role: ${role}`, `    scope: ${scope}`]);
  return [...identity, ...(roles.length ? ['roleAssignments:', ...assignments] : [])].join('\n') + '\n';
}

async function manifest(roles: Array<[string, string, string]>, userAssigned = false): Promise<IdentityManifest> {
  const tree = await loadDesiredTree(makeTree({ 'identity.yaml': manifestText(roles, userAssigned), 'apis/a/policy.xml': policy() }));
  expect(tree.diagnostics).toEqual([]);
  return tree.identity!;
}

function namedValue(keyVault: Record<string, unknown>, id = 'orders-key'): EntityResource {
  return { type: 'entity', kind: 'namedValue', address: `namedValues/${id}`, id, properties: { displayName: id, secret: true, keyVault }, file: NV_FILE, line: 1 };
}

const fix = (who: string, scope = '/subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.KeyVault/vaults/kv-secrets') =>
  `grant Key Vault Secrets User: add "- { identity: ${who}, role: Key Vault Secrets User, scope: ${scope} }" to roleAssignments in identity.yaml`;

describe('checkEntityAccess: Key Vault-backed named values', () => {
  it('accepts a secrets role at the vault, its resource group or its subscription', async () => {
    for (const scope of [KV, RG, SUB_SCOPE]) {
      for (const role of ['Key Vault Secrets User', 'Key Vault Secrets Officer', 'Key Vault Administrator']) {
        expect(checkEntityAccess([namedValue({ secretIdentifier: SECRET })], await manifest([['system', role, scope]]))).toEqual([]);
      }
    }
  });

  it('names the identity, the vault and the exact identity.yaml entry when no role covers the vault', async () => {
    const found = checkEntityAccess([namedValue({ secretIdentifier: `${SECRET}/0123456789abcdef` })], await manifest([['system', 'Key Vault Secrets User', OTHER_KV]]));
    expect(found).toEqual([
      {
        severity: 'error',
        rule: 'key-vault-access',
        file: NV_FILE,
        line: 1,
        column: 1,
        address: 'namedValues/orders-key',
        message:
          `named value orders-key reads ${SECRET}/0123456789abcdef: the system-assigned identity has no role on Key Vault kv-secrets in identity.yaml, ` +
          `and named value orders-key needs one to read secrets from it; ${fix('system')}`,
      },
    ]);
  });

  it('says why Key Vault Reader does not do, and suggests the vault id another assignment already names', async () => {
    const found = checkEntityAccess([namedValue({ secretIdentifier: SECRET })], await manifest([['system', 'Key Vault Reader', KV]]));
    expect(found.map((d) => d.message)).toEqual([
      `named value orders-key reads ${SECRET}: the system-assigned identity has only Key Vault Reader on Key Vault kv-secrets (identity.yaml line 4): ` +
        `Key Vault Reader sees metadata only, not secret values or key material; ${fix('system', KV)}`,
    ]);
  });

  it('checks the user-assigned identity whose client ID is identityClientId, when the client IDs are known', async () => {
    const m = await manifest([['id-a', 'Key Vault Secrets User', KV]], true);
    const clients = new Map([
      [CLIENT_A, 'id-a'],
      [CLIENT_B, 'id-b'],
    ]);
    expect(checkEntityAccess([namedValue({ secretIdentifier: SECRET, identityClientId: CLIENT_A.toUpperCase() })], m, { clients })).toEqual([]);
    expect(checkEntityAccess([namedValue({ secretIdentifier: SECRET, identityClientId: CLIENT_B })], m, { clients }).map((d) => d.message)).toEqual([
      `named value orders-key reads ${SECRET}: the user-assigned identity id-b has no role on Key Vault kv-secrets in identity.yaml, and named value orders-key needs one to read secrets from it; ${fix('id-b', KV)}`,
    ]);
    // The system identity's role does not serve a user-assigned fetch.
    const systemOnly = await manifest([['system', 'Key Vault Secrets User', KV]], true);
    expect(checkEntityAccess([namedValue({ secretIdentifier: SECRET, identityClientId: CLIENT_A })], systemOnly, { clients })).toHaveLength(1);
    const unknown = checkEntityAccess([namedValue({ secretIdentifier: SECRET, identityClientId: '33333333-3333-3333-3333-333333333333' })], m, { clients });
    expect(unknown.map((d) => d.message)).toEqual([
      `named value orders-key reads ${SECRET} with identityClientId 33333333-3333-3333-3333-333333333333, which is not the client ID of a user-assigned identity the instance will have ` +
        `(id-a ${CLIENT_A}, id-b ${CLIENT_B}): attach the identity in identity.yaml or correct keyVault.identityClientId`,
    ]);
  });

  it('offline, says the client ID cannot be matched and accepts a role of any user-assigned identity', async () => {
    expect(checkEntityAccess([namedValue({ secretIdentifier: SECRET, identityClientId: CLIENT_B })], await manifest([['id-a', 'Key Vault Secrets User', RG]], true))).toEqual([]);
    const found = checkEntityAccess([namedValue({ secretIdentifier: SECRET, identityClientId: CLIENT_B })], await manifest([['system', 'Key Vault Secrets User', KV]], true));
    expect(found.map((d) => d.message)).toEqual([
      `named value orders-key reads ${SECRET}: none of the user-assigned identities (id-a, id-b) (identityClientId ${CLIENT_B} cannot be matched to an alias of identity.yaml offline) ` +
        `has a role on Key Vault kv-secrets in identity.yaml, and named value orders-key needs one to read secrets from it; ${fix('<alias>', KV)}`,
    ]);
  });

  it('reports nothing without identity.yaml, for plain named values, and for vaults it cannot name', async () => {
    expect(checkEntityAccess([namedValue({ secretIdentifier: SECRET })], undefined)).toEqual([]);
    const m = await manifest([]);
    const plain: EntityResource = { type: 'entity', kind: 'namedValue', address: 'namedValues/p', id: 'p', properties: { displayName: 'p', value: 'x' } };
    expect(checkEntityAccess([plain, namedValue({ secretIdentifier: 'https://{#VAULT#}.vault.azure.net/secrets/x' })], m)).toEqual([]);
    expect(checkEntityAccess([namedValue({ secretIdentifier: SECRET })], m)).toHaveLength(1);
  });
});

describe('keyVaultStatusProblems', () => {
  const state = (...resources: EntityResource[]): EntityState => ({ resources: new Map(resources.map((r) => [r.address.toLowerCase(), r])) });
  it('warns at the file of a desired Key Vault value whose live refresh failed, with code, message and time', () => {
    const desired = state(namedValue({ secretIdentifier: SECRET }), namedValue({ secretIdentifier: SECRET }, 'fine'));
    const live = state(
      {
        ...namedValue({ secretIdentifier: SECRET, lastStatus: { code: 'Forbidden', message: 'The user does not have secrets get permission', timeStampUtc: '2026-12-01T10:00:00Z' } }),
        file: undefined,
      } as EntityResource,
      namedValue({ secretIdentifier: SECRET, lastStatus: { code: 'Success', timeStampUtc: '2026-12-01T10:00:00Z' } }, 'fine'),
    );
    expect(keyVaultStatusProblems(desired, live)).toEqual([
      {
        severity: 'warning',
        rule: 'key-vault-status',
        file: NV_FILE,
        line: 1,
        column: 1,
        address: 'namedValues/orders-key',
        message:
          'APIM could not refresh this secret from Key Vault: Forbidden: The user does not have secrets get permission (2026-12-01T10:00:00Z); ' +
          "check the identity's role on the vault and that the secret exists and is enabled",
      },
    ]);
    expect(keyVaultStatusProblems(desired, state())).toEqual([]);
  });
});

describe('lint over the tree', () => {
  const entities = (...resources: EntityResource[]): EntityState => ({ resources: new Map(resources.map((r) => [r.address.toLowerCase(), r])) });
  const backend = (id: string, url: string): EntityResource => ({
    type: 'entity',
    kind: 'backend',
    address: `backends/${id}`,
    id,
    properties: { url, protocol: 'http' },
    file: `backends/${id}/backendInformation.json`,
    line: 1,
  });
  const viaBackend = policy(['<set-backend-service backend-id="orders-bus" />', '<authentication-managed-identity resource="https://servicebus.azure.net/" />'].join('\n        '));

  async function lint(files: Record<string, string>, state?: EntityState): Promise<string[]> {
    const root = makeTree(files);
    const tree = await loadDesiredTree(root);
    expect(tree.diagnostics).toEqual([]);
    return lintTree({ ...tree, ...(state ? { entities: state } : {}) }, { rules: RULES.filter((r) => ['key-vault-access', 'missing-data-role', 'managed-identity-audience'].includes(r.id)) }).map(
      (d) => `${relative(root, d.file)}:${d.line} ${d.severity} ${d.rule}: ${d.message}`,
    );
  }

  it('key-vault-access reports at the named value file', async () => {
    const files = { 'identity.yaml': manifestText([]), 'apis/a/policy.xml': policy() };
    const found = await lint(files, entities({ ...namedValue({ secretIdentifier: SECRET }), file: join(tmpdir(), NV_FILE) }));
    expect(found).toEqual([expect.stringMatching(/named values\/orders-key\/namedValueInformation.json:1 error key-vault-access: named value orders-key reads /)]);
    expect(await lint(files)).toEqual([]);
  });

  it("missing-data-role follows set-backend-service backend-id to the backend's url", async () => {
    const files = { 'identity.yaml': manifestText([['system', 'Key Vault Secrets User', KV]]), 'apis/orders/policy.xml': viaBackend };
    expect(await lint(files)).toEqual([]);
    expect(await lint(files, entities(backend('orders-bus', 'https://sb-orders.servicebus.windows.net/orders')))).toEqual([
      'apis/orders/policy.xml:4 warning missing-data-role: the system-assigned identity has no role on Service Bus namespace sb-orders in identity.yaml, and the policy needs one to send messages to it; ' +
        'grant Azure Service Bus Data Sender: add "- { identity: system, role: Azure Service Bus Data Sender, scope: /subscriptions/<subscription-id>/resourceGroups/<group>/providers/Microsoft.ServiceBus/namespaces/sb-orders }" to roleAssignments in identity.yaml',
    ]);
    const covered = { ...files, 'identity.yaml': manifestText([['system', 'Azure Service Bus Data Sender', SB]]) };
    expect(await lint(covered, entities(backend('orders-bus', 'https://sb-orders.servicebus.windows.net/orders')))).toEqual([]);
  });

  it('managed-identity-audience sees the backend-id target too', async () => {
    const found = await lint({ 'apis/orders/policy.xml': viaBackend }, entities(backend('orders-bus', 'https://kv-secrets.vault.azure.net/')));
    expect(found).toEqual([
      expect.stringMatching(
        /^apis\/orders\/policy.xml:4 warning managed-identity-audience: resource "https:\/\/servicebus.azure.net\/" is the audience of Service Bus \/ Event Hubs, but the token goes to kv-secrets.vault.azure.net \(Key Vault\)/,
      ),
    ]);
  });
});
