/**
 * identity.yaml as loaded (desired/identity-manifest.ts): the APIM instance's managed identities
 * (system-assigned on or off, user-assigned ones by alias) and the role assignments they need.
 * Positions are kept so that plan and lint can point at the line to change.
 */

export interface ManifestLocation {
  file: string;
  line: number;
  column: number;
}

export interface UserAssignedIdentitySpec {
  alias: string;
  /** Normalised like a scope (see normaliseScope in scope.ts); case kept. */
  resourceId: string;
  /** The alias key. */
  at: ManifestLocation;
}

export interface RoleAssignmentSpec {
  /** `system` or an alias of identity.userAssigned, as written. */
  identity: string;
  /** As written (after substitution): a built-in role name, a role definition GUID or role definition ID. */
  role: string;
  /** Lower-case GUID when `role` is a GUID, a role definition ID or a name in KNOWN_BUILT_IN_ROLES (roles.ts) (any case). */
  roleDefinitionGuid?: string;
  /** Normalised (see normaliseScope in scope.ts) and valid: no empty, "." or ".." segment; case kept. */
  scope: string;
  description?: string;
  /** The list item (its first key). */
  at: ManifestLocation;
  /** The role's value (where a role name not known offline is reported). */
  roleAt?: ManifestLocation;
}

export interface IdentityManifest {
  /** Shown path: join(options.label ?? root, 'identity.yaml'). */
  file: string;
  /** Undefined when the manifest does not say: the identity is then left as it is live. */
  systemAssigned?: boolean;
  /** [] when absent; see userAssignedDeclared. */
  userAssigned: UserAssignedIdentitySpec[];
  /** True when the manifest has identity.userAssigned (even empty: no user-assigned identity); else the live ones are left as they are. */
  userAssignedDeclared?: boolean;
  /** Line of the `identity:` key, when there is one. */
  identityLine?: number;
  roleAssignments: RoleAssignmentSpec[];
  /** The environment whose variables were substituted. */
  environment?: string;
}
