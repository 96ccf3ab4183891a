/**
 * A Key Vault named value whose last read failed is broken in production until APIM reads its
 * secret again — on its own within four hours, or when the value is written. When this plan grants
 * the access the value's identity lacked (it switches the identity on or attaches it, or creates
 * a Key Vault secrets role for it on the vault or an enclosing scope), the plan writes the value
 * again, unchanged, after the grant: an update whose diff is one line saying why. Apply derives
 * that line again from what is live (`readAgainNote`), so a plan made for a value that has been
 * read since is refused as not what live is.
 */
import { addressKey } from '../model/address.js';
import type { EntityResource, EntityState } from '../model/entities.js';
import type { Change } from '../model/index.js';
import { KV_ADMIN, KV_SECRETS_OFFICER, roleGuid } from '../model/roles.js';

type Props = Record<string, unknown>;

const isObject = (v: unknown): v is Props => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The Key Vault data roles that read secrets. */
const READERS = new Set(['Key Vault Secrets User', KV_SECRETS_OFFICER, KV_ADMIN].map((r) => roleGuid(r)!.toLowerCase()));

/** The reference of a Key Vault named value's properties, with its last status. */
function keyVaultOf(props: Props): { secretIdentifier: string; identityClientId?: string; lastStatus?: Props } | undefined {
  const kv = props['keyVault'];
  if (!isObject(kv) || typeof kv['secretIdentifier'] !== 'string') return undefined;
  return {
    secretIdentifier: kv['secretIdentifier'],
    ...(typeof kv['identityClientId'] === 'string' ? { identityClientId: kv['identityClientId'] } : {}),
    ...(isObject(kv['lastStatus']) ? { lastStatus: kv['lastStatus'] } : {}),
  };
}

/** The one-line reason a plan writes again a live Key Vault value whose last read failed; undefined when it did not fail. */
export function readAgainNote(live: Props): string | undefined {
  const status = keyVaultOf(live)?.lastStatus;
  const code = status?.['code'];
  if (typeof code !== 'string' || code.toLowerCase() === 'success') return undefined;
  return `read again from Key Vault: its last read failed (${code}); this plan grants the access it lacked, and APIM reads the secret when the value is written\n`;
}

/** The vault's name of a secret URL (`https://<vault>.vault.azure.net/secrets/…`). */
const vaultOf = (url: string) => /^https:\/\/([^./]+)\.vault\./i.exec(url)?.[1]?.toLowerCase();

/** Whether a role assignment scope covers the vault: the vault (or a secret in it), or a scope above any resource (subscription, resource group, `/`). */
function covers(scope: string, vault: string): boolean {
  const s = scope.toLowerCase().replace(/\/+$/, '');
  if (!s.includes('/providers/')) return true;
  return new RegExp(`/providers/microsoft\\.keyvault/vaults/${vault.replace(/[^a-z0-9-]/g, '')}(/secrets/[^/]+)?$`).test(s);
}

/**
 * The address keys of the Key Vault named values of `desired` whose live copy's last read failed
 * and whose identity this plan grants access: `identityChanges` are the plan's identity and role
 * assignment changes, `clients` the user-assigned identities after apply (lower-case client ID →
 * alias and resource ID).
 */
export function valuesToReadAgain(
  desired: Iterable<EntityResource>,
  live: EntityState,
  identityChanges: readonly Change[],
  clients: ReadonlyMap<string, { alias: string; resourceId: string }>,
): Set<string> {
  const out = new Set<string>();
  const identity = identityChanges.find((c) => c.resourceType === 'identity' && c.action === 'update' && c.identity);
  const creates = identityChanges.filter((c) => c.resourceType === 'roleAssignment' && c.action === 'create' && c.roleAssignment);
  for (const e of desired) {
    if (e.kind !== 'namedValue') continue;
    const want = keyVaultOf(e.properties);
    const there = live.resources.get(addressKey(e.address));
    if (!want || !there || !readAgainNote(there.properties)) continue;
    const vault = vaultOf(want.secretIdentifier);
    if (!vault) continue;
    // Who reads it: the system identity, or the user-assigned one with that client ID (named by its alias or its resource ID).
    const ua = want.identityClientId !== undefined ? clients.get(want.identityClientId.toLowerCase()) : undefined;
    if (want.identityClientId !== undefined && !ua) continue;
    const names = ua ? [ua.alias.toLowerCase(), ua.resourceId.toLowerCase()] : ['system'];
    const before = identity?.identity?.before;
    const after = identity?.identity?.after;
    const has = (shape: { userAssigned: string[] }, id: string) => shape.userAssigned.some((x) => x.toLowerCase() === id.toLowerCase());
    const switchedOn = !!before && !!after && (ua ? has(after, ua.resourceId) && !has(before, ua.resourceId) : !before.systemAssigned && after.systemAssigned);
    const granted = creates.some((c) => {
      const a = c.roleAssignment!;
      return names.includes(a.identity.toLowerCase()) && READERS.has(a.roleDefinitionGuid.toLowerCase()) && covers(a.scope, vault);
    });
    if (switchedOn || granted) out.add(addressKey(e.address));
  }
  return out;
}
