/**
 * Addresses of policies and fragments, made from the kinds table (kinds.ts): a scope's policy has
 * the ARM path of its row, relative to the service, e.g. `apis/echo/policies/policy`.
 */
import type { Address, LiveCopy, PolicyResource, PolicyScope, PolicyScopeKind } from './index.js';
import { formatAddress, formatTreePath, isPolicyKind, parseAddress, POLICY_KINDS, type Located } from './kinds.js';

/** A scope as a located resource of the kinds table (its ids by the row's parameter names). */
export function locatedOf(scope: PolicyScope): Located {
  const { kind, workspace, ...params } = scope;
  return { kind, params: params as Record<string, string>, ...(workspace !== undefined ? { workspace } : {}) };
}

/** The scope of a located policy or fragment. */
export function scopeOfLocated(at: Located): PolicyScope | undefined {
  if (!isPolicyKind(at.kind)) return undefined;
  return { kind: at.kind, ...at.params, ...(at.workspace !== undefined ? { workspace: at.workspace } : {}) } as PolicyScope;
}

/** The ARM path of a scope's policy relative to the service: the name plans and errors use. */
export function policyAddress(scope: PolicyScope): Address {
  return formatAddress(locatedOf(scope))!;
}

/** Inverse of `policyAddress`; undefined for anything that is not a policy address. */
export function parsePolicyAddress(address: Address): PolicyScope | undefined {
  const at = parseAddress(address);
  return at ? scopeOfLocated(at) : undefined;
}

/** The file of a scope's policy, relative to the tree's root ("/"-separated). */
export function policyFilePath(scope: PolicyScope): string {
  return formatTreePath(locatedOf(scope))!;
}

/** The address of a fragment, as an `include-fragment` in a policy at `workspace` names it. */
export function fragmentAddress(fragmentId: string, workspace?: string): Address {
  return policyAddress({ kind: 'fragment', fragmentId, ...(workspace !== undefined ? { workspace } : {}) });
}

/** Apply order of the policy kinds: what others reference goes first (fragments before the policies that include them). */
export const SCOPE_ORDER: readonly PolicyScopeKind[] = POLICY_KINDS;

/** ARM names are case-insensitive: two addresses that differ only in case are one resource. */
export function addressKey(address: Address): string {
  return address.toLowerCase();
}

/** The address of the instance's managed identities (one resource). */
export const IDENTITY_ADDRESS: Address = formatAddress({ kind: 'identity', params: {} })!;

/** The address of a role assignment by its name (a GUID, or a placeholder while it is known only after apply). */
export function roleAssignmentAddress(name: string): Address {
  return formatAddress({ kind: 'roleAssignment', params: { name } })!;
}

/** A resource read live (or kept in a snapshot) as a resource of a State: the one conversion. */
export function resourceOfCopy(copy: LiveCopy): PolicyResource {
  const resource: PolicyResource = { type: 'policy', address: copy.address, scope: parsePolicyAddress(copy.address)!, xml: copy.xml };
  if (copy.etag !== undefined) resource.etag = copy.etag;
  if (copy.description !== undefined) resource.description = copy.description;
  return resource;
}
