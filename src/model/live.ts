/**
 * The live side of a plan as one object, and the port that reads it. The ARM implementation is in
 * azure/; a snapshot folder or an in-memory state gives the same shape, so planning is tested
 * without ARM.
 */
import { parsePolicyAddress } from './address.js';
import type { EntityState } from './entities.js';
import type { Address, Diagnostic, IdentityShape, State } from './index.js';

/** A user-assigned identity as ARM knows it (from its own resource). */
export interface UserAssignedInfo {
  resourceId: string;
  principalId: string;
  clientId: string;
}

export interface LiveRoleAssignment {
  name: string;
  scope: string;
  roleDefinitionGuid: string;
  principalId: string;
}

/** Everything the identity plan needs from live (read for what identity.yaml names). */
export interface LiveIdentity {
  shape: IdentityShape;
  /** Object ID of the system identity, when it is on. */
  systemPrincipalId?: string;
  /** Every user-assigned identity attached live or named in the manifest, by lower-cased resource ID; absent = does not exist. */
  userAssigned: Map<string, UserAssignedInfo>;
  /** Role assignments of the principals above. */
  assignments: LiveRoleAssignment[];
  /** Role GUID → display name, for every role the plan names. */
  roleNames: Map<string, string>;
  /** Role as written in the manifest (lower-cased) → GUID; absent = no such role at that scope. */
  resolvedRoles: Map<string, string>;
  /** Built-in role names that exist, for suggestions. */
  knownRoleNames: string[];
  /** Key Vault-backed named values and certificates: which identity fetches each (no client ID = the system identity). */
  keyVaultUsers: Array<{ what: string; identityClientId?: string }>;
}

/** Names of the live named values and backends, for the reference checks. */
export interface LiveNames {
  /** Lower-cased `name`, or the workspace-qualified name (kinds.ts workspaceQualified), of every named value. */
  namedValues: Set<string>;
  /** The same, of every backend. */
  backends: Set<string>;
  /** Values of the named values that are not secret, by the same key. */
  namedValueValues: Map<string, string>;
}

/**
 * The APIs, operations, products and workspaces the instance has, as far as the desired policies
 * need them (ARM refuses a policy under a parent it lacks; this tool does not create parents).
 */
export interface LiveParents {
  /** The instance's name, for the messages. */
  service: string;
  /**
   * Names as read, by the lower-cased address of their collection (`apis`, `products`, `workspaces`,
   * `apis/orders/operations`, `workspaces/w/apis` …). A collection that was not listed is absent: no
   * check is made under it.
   */
  collections: Map<string, string[]>;
  /**
   * Parents a live policy under them proves (lower-cased `collection/name`, e.g. `apis/orders`): no
   * list is needed for these; one is listed only for a parent nothing proves.
   */
  known: Set<string>;
}

/** One parent of a policy: what it is, the collection it is listed in (lower-cased address) and its name. */
export interface PolicyParent {
  kind: 'workspace' | 'api' | 'operation' | 'product';
  collection: string;
  name: string;
}

/**
 * The parents of a policy or fragment address, outermost first
 * (`workspaces/w/apis/a/operations/o/policies/policy` → workspace `w` in `workspaces`, API `a` in
 * `workspaces/w/apis`, operation `o` in `workspaces/w/apis/a/operations`).
 */
export function policyParents(address: Address): PolicyParent[] {
  const scope = parsePolicyAddress(address);
  if (!scope) return [];
  const out: PolicyParent[] = [];
  const ws = scope.workspace !== undefined ? `workspaces/${scope.workspace}/` : '';
  if (scope.workspace !== undefined) out.push({ kind: 'workspace', collection: 'workspaces', name: scope.workspace });
  if (scope.kind === 'api' || scope.kind === 'operation') out.push({ kind: 'api', collection: `${ws}apis`.toLowerCase(), name: scope.apiId });
  if (scope.kind === 'operation') out.push({ kind: 'operation', collection: `${ws}apis/${scope.apiId}/operations`.toLowerCase(), name: scope.operationId });
  if (scope.kind === 'product') out.push({ kind: 'product', collection: `${ws}products`.toLowerCase(), name: scope.productId });
  return out;
}

/** Whether the parent exists: known (a live policy proves it) or in its listed collection; undefined when neither was read. */
export function parentListed(parents: LiveParents, parent: PolicyParent): boolean | undefined {
  if (parents.known.has(`${parent.collection}/${parent.name}`.toLowerCase())) return true;
  const names = parents.collections.get(parent.collection);
  return names === undefined ? undefined : names.some((n) => n.toLowerCase() === parent.name.toLowerCase());
}

/** The workflow's limits on role assignments (not the manifest's to loosen). */
export interface Guardrails {
  allowPrivilegedRoles: boolean;
  /** Scopes role assignments may target; an assignment at or below one of them is allowed. */
  allowedScopes: string[];
}

/**
 * The live side of a plan. `state` holds what is planned (policies and fragments, each with its
 * ETag); the rest is there when it was read: a snapshot folder has only `state`.
 */
export interface LiveState {
  state: State;
  /** Canonical forms by address key, when the loader made them (a snapshot folder). */
  canonical?: Map<string, string>;
  /** Fragments read only so that reference checks know they exist (a scoped plan); not planned. */
  referenced?: State;
  /** Names of named values and backends; absent when not read (a snapshot): no reference checks then. */
  names?: LiveNames;
  /** The named values and backends with their properties (from the same lists as `names`); absent when not read. */
  entities?: EntityState;
  /**
   * The values of the secret named values `LiveRequest.entities.secrets` asked for (ARM's
   * `listValue`), by address key. In memory only: compared as keyed hashes, never shown or written.
   */
  entitySecrets?: Map<string, string>;
  /** The instance's managed identities and their role assignments, read for identity.yaml; absent when not read. */
  rbac?: LiveIdentity;
  /** The user-assigned identities attached now, when `rbac` was not read (for the client-id checks). */
  attached?: UserAssignedInfo[];
  /** The parents of the desired policies that exist; absent when not read (a snapshot): no parent checks then. */
  parents?: LiveParents;
  /** Findings of the read (live ids that cannot be used, …), shown with the plan. */
  problems?: Diagnostic[];
}

/** What identity.yaml needs read: derived from the desired manifest by the caller. */
export interface IdentityQuery {
  /** Resource IDs of the user-assigned identities the manifest names. */
  userAssigned: string[];
  /** The roles the manifest assigns, as written, and where. */
  roleAssignments: Array<{ role: string; roleDefinitionGuid?: string; scope: string }>;
  /**
   * Where the tool may assign roles (the allowed-scopes guardrail): role assignments are listed
   * there (so one removed from the manifest is still found), or at the manifest's scopes without it.
   */
  allowedScopes?: string[];
}

export interface LiveRequest {
  /** Only these policies and fragments (a scoped plan); all of the instance when absent. */
  addresses?: Address[];
  /**
   * With a full read (no `addresses`): the policy addresses of the desired tree. `allPolicies` is only
   * a hint — one of these it leaves out is read directly before the plan calls it a create.
   */
  desired?: Address[];
  /** Of `addresses`, those read only for reference checks (they go to `referenced`, not `state`). */
  referenced?: Address[];
  /** Read the identity for identity.yaml; without it only the attached user-assigned identities are read. */
  identity?: IdentityQuery;
  /**
   * Named values whose secret value is compared (`listValue`, a POST: only secrets the tree has), and
   * the workspaces the tree's named values and backends belong to (each must exist; their entities are listed).
   */
  entities?: { secrets: Address[]; workspaces?: string[] };
}

/** Reads the live side of a plan. */
export interface LiveReader {
  read(request: LiveRequest): Promise<LiveState>;
}
