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
import { keyVaultReference } from '../model/entity-access.js';
import { roleGuid } from '../model/roles.js';
import { scopeResource } from '../model/scope.js';
import { DATA_PLANES, serviceHostOf } from '../model/services.js';

type Props = Record<string, unknown>;

/** The roles that read a Key Vault secret: those the `key-vault-access` check accepts. */
const READERS = new Set(DATA_PLANES.keyVault.access({ path: '/secrets/s', method: 'GET' }).fits.map((r) => roleGuid(r)!.toLowerCase()));

/** The one-line reason a plan writes again a live Key Vault value whose last read failed; undefined when it did not fail. */
export function readAgainNote(live: Props): string | undefined {
  const status = keyVaultReference(live)?.lastStatus;
  const code = status?.['code'];
  if (typeof code !== 'string' || code.toLowerCase() === 'success') return undefined;
  return `read again from Key Vault: its last read failed (${code}); this plan grants the access it lacked, and APIM reads the secret when the value is written\n`;
}

/** Whether a role assignment scope covers the vault: the vault (or something in it), or a scope above any resource (subscription, resource group, `/`) — as the `key-vault-access` check counts it. */
function covers(scope: string, vault: string): boolean {
  const r = scopeResource(scope);
  return !r || (r.type.toLowerCase() === DATA_PLANES.keyVault.type.toLowerCase() && r.name.toLowerCase() === vault);
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
    const want = keyVaultReference(e.properties);
    const there = live.resources.get(addressKey(e.address));
    if (!want || !there || !readAgainNote(there.properties)) continue;
    const host = serviceHostOf(want.secretIdentifier);
    const vault = host?.endpoint.plane === 'keyVault' ? host.name : undefined;
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
