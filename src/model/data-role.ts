/**
 * Whether an identity of the APIM instance holds, in identity.yaml, a data-plane role that lets it
 * make a call (services.ts's DATA_PLANES say which roles fit a call): the one matcher and the one
 * "add this to identity.yaml" suggestion, shared by lint's missing-data-role (policies calling a
 * service) and the Key Vault access check of named values (plan/entity-access.ts, lint's
 * key-vault-access). Pure.
 */
import type { IdentityManifest, RoleAssignmentSpec } from './identity.js';
import { builtInRoleName } from './roles.js';
import { scopeResource } from './scope.js';
import type { Access, DataPlane } from './services.js';

const sameText = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The managed identity that makes a call, with its role assignments in identity.yaml. */
export interface RoleHolder {
  /** For messages: "the system-assigned identity". */
  who: string;
  /** The `identity:` of the entry to suggest. */
  entry: string;
  aliases: string[];
  specs: RoleAssignmentSpec[];
}

/**
 * The identity identity.yaml knows for a call: the system-assigned one, or a user-assigned one.
 * `user.clients` (lower-case client ID → alias) picks the one whose client ID is `user.clientId`;
 * without it (offline) any user-assigned identity of the manifest may be it. Undefined when the
 * manifest does not manage that identity (or it is off: identity-not-enabled says so).
 */
export function roleHolder(manifest: IdentityManifest, user?: { clientId?: string; clients?: ReadonlyMap<string, string> }): RoleHolder | undefined {
  if (!user) {
    if (manifest.systemAssigned === false) return undefined;
    return { who: 'the system-assigned identity', entry: 'system', aliases: [], specs: manifest.roleAssignments.filter((r) => r.identity === 'system') };
  }
  if (!manifest.userAssignedDeclared || manifest.userAssigned.length === 0) return undefined;
  const alias = user.clientId !== undefined ? user.clients?.get(user.clientId.trim().toLowerCase()) : undefined;
  const known = alias !== undefined ? manifest.userAssigned.find((u) => sameText(u.alias, alias)) : undefined;
  if (known) return { who: `the user-assigned identity ${known.alias}`, entry: known.alias, aliases: [known.alias], specs: manifest.roleAssignments.filter((r) => sameText(r.identity, known.alias)) };
  // Offline we cannot tell which user-assigned identity a client ID belongs to: any of them will do.
  const aliases = manifest.userAssigned.map((u) => u.alias);
  const who = aliases.length === 1 ? `the user-assigned identity ${aliases[0]}` : `the user-assigned identities (${aliases.join(', ')})`;
  return { who, entry: aliases.length === 1 ? aliases[0]! : '<alias>', aliases, specs: manifest.roleAssignments.filter((r) => r.identity !== 'system') };
}

/** The resource a call reaches: its data plane and, when the host names it, its name. */
export interface DataTarget {
  plane: DataPlane;
  /** Lower-case resource name from the host; undefined when it cannot be known. */
  name?: string;
  host: string;
}

/**
 * What is missing for `holder` to make a call needing `access` on `target`, as a message ending in
 * the exact identity.yaml entry to add (`subject`: what makes the call, for the message); undefined when an assignment fits (or a custom role or a
 * built-in role not listed may: never cry wolf). `key` tells repeats of one finding apart.
 */
export function dataRoleProblem(holder: RoleHolder, target: DataTarget, access: Access, manifest: IdentityManifest, subject = 'the policy'): { key: string; message: string } | undefined {
  const { plane } = target;
  const types = [plane.type, ...(plane.alsoTypes ?? [])];
  const covering = holder.specs.filter((spec) => {
    const r = scopeResource(spec.scope);
    if (!r) return true; // a resource group or subscription may hold the resource
    return target.name !== undefined && !plane.nameNotInHost ? sameText(r.name, target.name) : types.some((t) => sameText(t, r.type));
  });
  const names = covering.map(builtInRoleName);
  // A custom role or a built-in we do not list may well allow it.
  if (names.some((n) => n === undefined || access.fits.includes(n))) return undefined;
  const resource = target.name !== undefined ? `${plane.what} ${target.name}` : `the ${plane.what} at ${target.host}`;
  // The resource ID when another assignment names the resource already; placeholders otherwise.
  const known = manifest.roleAssignments.map((s) => scopeResource(s.scope)).find((r) => r && target.name !== undefined && sameText(r.name, target.name) && types.some((t) => sameText(t, r.type)));
  const scope = known?.resourceScope ?? `/subscriptions/<subscription-id>/resourceGroups/<group>/providers/${plane.type}/${target.name ?? '<name>'}`;
  const fix = `grant ${access.grant}: add "- { identity: ${holder.entry}, role: ${access.grant}, scope: ${scope} }" to roleAssignments in identity.yaml`;
  let message: string;
  if (!covering.length) {
    message =
      holder.aliases.length > 1
        ? `none of ${holder.who} has a role on ${resource} in identity.yaml, and ${subject} needs one to ${access.verb} it; ${fix}`
        : `${holder.who} has no role on ${resource} in identity.yaml, and ${subject} needs one to ${access.verb} it; ${fix}`;
  } else {
    const held = [...new Set(names as string[])];
    const lines = covering.map((s) => s.at.line);
    // The common mistakes (Receiver for Sender, a control-plane role) get their own words.
    const why = held.every((n) => access.opposite?.roles.includes(n)) ? access.opposite!.why : `${held.length === 1 ? 'it does' : 'they do'} not allow ${subject} to ${access.verb} it`;
    const where = `identity.yaml line${lines.length > 1 ? 's' : ''} ${lines.join(', ')}`;
    message = `${holder.who} ${holder.aliases.length > 1 ? 'have' : 'has'} only ${held.join(', ')} on ${resource} (${where}): ${why}; ${fix}`;
  }
  return { key: `${resource}\n${access.grant}`, message };
}
