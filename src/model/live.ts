/**
 * The live side of a plan as one object, and the port that reads it. The ARM implementation is in
 * azure/; a snapshot folder or an in-memory state gives the same shape, so planning is tested
 * without ARM.
 */
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
  /** The instance's managed identities and their role assignments, read for identity.yaml; absent when not read. */
  rbac?: LiveIdentity;
  /** The user-assigned identities attached now, when `rbac` was not read (for the client-id checks). */
  attached?: UserAssignedInfo[];
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
}

/** Reads the live side of a plan. */
export interface LiveReader {
  read(request: LiveRequest): Promise<LiveState>;
}
