/**
 * Key Vault-backed named values and the identity that fetches them. APIM reads
 * `keyVault.secretIdentifier` (`https://<vault>.vault.azure.net/secrets/<name>[/<version>]`) with
 * its system-assigned identity, or with the user-assigned one whose client ID is
 * `keyVault.identityClientId`; that identity needs a Key Vault data role that reads secrets on the
 * vault (or an enclosing resource group or subscription). Checked against identity.yaml with the
 * matcher missing-data-role uses (data-role.ts); without identity.yaml there is nothing to check
 * against and nothing is reported, as with missing-data-role. Pure: used by lint (key-vault-access)
 * and by the plan (plan/entity-access.ts).
 */
import { dataRoleProblem, roleHolder } from './data-role.js';
import type { EntityResource, EntityState } from './entities.js';
import type { IdentityManifest } from './identity.js';
import type { Diagnostic } from './index.js';
import { DATA_PLANES, pathOf, serviceHostOf } from './services.js';

export const KEY_VAULT_ACCESS = 'key-vault-access';
export const KEY_VAULT_STATUS = 'key-vault-status';

export interface EntityAccessOptions {
  /** Lower-case client ID → identity.yaml alias of the user-assigned identities, when the live side is known. */
  clients?: ReadonlyMap<string, string>;
}

/** The Key Vault reference of a named value, when it has one. */
function keyVaultOf(e: EntityResource): KeyVaultReference | undefined {
  return e.kind === 'namedValue' ? keyVaultReference(e.properties) : undefined;
}

export interface KeyVaultReference {
  secretIdentifier: string;
  identityClientId?: string;
  lastStatus?: Record<string, unknown>;
}

/** The `keyVault` reference in a named value's properties (the tree's or live's), when it has one. */
export function keyVaultReference(properties: Record<string, unknown>): KeyVaultReference | undefined {
  const kv = properties['keyVault'];
  if (!kv || typeof kv !== 'object') return undefined;
  const { secretIdentifier, identityClientId, lastStatus } = kv as Record<string, unknown>;
  if (typeof secretIdentifier !== 'string') return undefined;
  return {
    secretIdentifier,
    ...(typeof identityClientId === 'string' && identityClientId.trim() !== '' ? { identityClientId: identityClientId.trim() } : {}),
    ...(lastStatus && typeof lastStatus === 'object' ? { lastStatus: lastStatus as Record<string, unknown> } : {}),
  };
}

function diagnostic(e: EntityResource, rule: string, severity: Diagnostic['severity'], message: string): Diagnostic {
  return { severity, rule, file: e.file ?? e.address, line: e.file !== undefined ? (e.line ?? 1) : 0, column: e.file !== undefined ? 1 : 0, message, address: e.address };
}

/** Rule `key-vault-access`: each Key Vault-backed named value whose fetching identity has no fitting role on its vault in identity.yaml. */
export function checkEntityAccess(entities: Iterable<EntityResource>, manifest: IdentityManifest | undefined, options: EntityAccessOptions = {}): Diagnostic[] {
  if (!manifest) return [];
  const out: Diagnostic[] = [];
  for (const e of entities) {
    const kv = keyVaultOf(e);
    if (!kv) continue;
    const host = serviceHostOf(kv.secretIdentifier);
    // Another cloud's vault, a token or a named value for the host: not a vault we can name.
    if (host?.endpoint.plane !== 'keyVault' || host.name === undefined) continue;
    const what = `named value ${e.id} reads ${kv.secretIdentifier}`;
    const clientId = kv.identityClientId;
    if (clientId === undefined && manifest.systemAssigned === false) {
      out.push(
        diagnostic(
          e,
          KEY_VAULT_ACCESS,
          'error',
          `${what} with the system-assigned identity, but identity.yaml sets systemAssigned: false: set identity.systemAssigned: true, or set keyVault.identityClientId to the client ID of a user-assigned identity`,
        ),
      );
      continue;
    }
    if (clientId !== undefined && options.clients && !options.clients.has(clientId.toLowerCase())) {
      const attached = [...options.clients.entries()].map(([c, alias]) => `${alias} ${c}`).join(', ');
      out.push(
        diagnostic(
          e,
          KEY_VAULT_ACCESS,
          'error',
          `${what} with identityClientId ${clientId}, which is not the client ID of a user-assigned identity the instance will have (${attached || 'none attached'}): attach the identity in identity.yaml or correct keyVault.identityClientId`,
        ),
      );
      continue;
    }
    const holder = roleHolder(manifest, clientId !== undefined ? { clientId, ...(options.clients ? { clients: options.clients } : {}) } : undefined);
    if (!holder) continue;
    // Offline a client ID is not matched to an alias: any user-assigned identity of identity.yaml may be it.
    if (clientId !== undefined && !options.clients) holder.who += ` (identityClientId ${clientId} cannot be matched to an alias of identity.yaml offline)`;
    const plane = DATA_PLANES.keyVault;
    const access = plane.access({ path: pathOf(kv.secretIdentifier), method: 'GET' });
    const problem = dataRoleProblem(holder, { plane, name: host.name, host: host.host }, access, manifest, `named value ${e.id}`);
    if (problem) out.push(diagnostic(e, KEY_VAULT_ACCESS, 'error', `${what}: ${problem.message}`));
  }
  return out;
}

/**
 * Rule `key-vault-status`: a warning for each Key Vault-backed named value of `desired` whose live
 * copy says its last refresh from Key Vault did not succeed. `refreshUrl`, when given, is the ARM
 * URL of the instance's named values: the warning then says how to have APIM read the secret at
 * once (`refreshSecret`) instead of at its next refresh.
 */
export function keyVaultStatusProblems(desired: EntityState, live: EntityState, refreshUrl?: (id: string, workspace?: string) => string): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const [key, e] of desired.resources) {
    if (!keyVaultOf(e)) continue;
    const there = live.resources.get(key);
    const status = there ? keyVaultOf(there)?.lastStatus : undefined;
    const code = status?.['code'];
    if (typeof code !== 'string' || code.toLowerCase() === 'success') continue;
    const message = typeof status!['message'] === 'string' && status!['message'] !== '' ? `: ${status!['message']}` : '';
    const when = status!['timeStampUtc'];
    const at = typeof when === 'string' || when instanceof Date ? ` (${when instanceof Date ? when.toISOString() : when})` : '';
    out.push(
      diagnostic(
        e,
        KEY_VAULT_STATUS,
        'warning',
        `APIM could not refresh this secret from Key Vault: ${code}${message}${at}; check the identity's role on the vault and that the secret exists and is enabled` +
          (refreshUrl
            ? `. APIM reads it again on its own within four hours; once access is fixed (a role this plan grants included), have it read now with \`az rest --method post --url "${refreshUrl(e.id, e.workspace)}"\``
            : ''),
      ),
    );
  }
  return out;
}
