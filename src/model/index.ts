/**
 * The shared vocabulary of the tool: addresses, resources, states, plans and diagnostics.
 * Plain data only, so a plan can be written to a file, read back and rendered anywhere.
 */

/** ARM path of a resource relative to the APIM service, e.g. `apis/echo/policies/policy`. */
export type Address = string;

/** Where a policy stands: the ARM scope that owns it. */
export type PolicyScope =
  | { kind: 'global'; workspace?: string }
  | { kind: 'product'; productId: string; workspace?: string }
  | { kind: 'api'; apiId: string; workspace?: string }
  | { kind: 'operation'; apiId: string; operationId: string; workspace?: string }
  | { kind: 'fragment'; fragmentId: string; workspace?: string };

export type PolicyScopeKind = PolicyScope['kind'];

/** A policy document (`<policies>`) or a policy fragment (`<fragment>`) at one address. */
export interface PolicyResource {
  type: 'policy';
  address: Address;
  scope: PolicyScope;
  /** The XML as written in the file or as returned by ARM. */
  xml: string;
  /** Repository-relative file the resource was loaded from (desired state or snapshot). */
  file?: string;
  /** Fragment description (policyFragmentInformation.json / ARM `properties.description`). */
  description?: string;
  /** ETag ARM returned when the resource was read (live state only). */
  etag?: string;
}

export type Resource = PolicyResource;

/**
 * Desired or live state. Both sides of a plan have this shape. Keyed by the lower-cased address
 * (`addressKey`), since ARM names are case-insensitive; each resource keeps its own spelling.
 */
export interface State {
  resources: Map<string, Resource>;
}

export type Severity = 'error' | 'warning' | 'info';

/** A finding about the input: a parse error, a lint rule, a plan-time reference problem. */
export interface Diagnostic {
  severity: Severity;
  rule: string;
  file: string;
  line: number;
  column: number;
  message: string;
  /** The resource the finding is about, when there is one. */
  address?: Address;
}

export type ChangeAction = 'create' | 'update' | 'delete' | 'noop';

/** The instance's managed identities as ARM spells them: `identity.type` and the attached user-assigned IDs. */
export interface IdentityShape {
  systemAssigned: boolean;
  /** Resource IDs of the attached user-assigned identities, as spelled (compare case-insensitively). */
  userAssigned: string[];
}

/** A role assignment for one of the instance's identities. */
export interface RoleAssignment {
  /** Deterministic GUID of (scope, principal, role); absent while the principal is known only after apply. */
  name?: string;
  scope: string;
  roleDefinitionGuid: string;
  roleName: string;
  /** `system`, or the alias / resource ID of a user-assigned identity: who gets the role. */
  identity: string;
  /** Object ID of the identity; absent when it is known only after apply (the system identity being enabled). */
  principalId?: string;
  description?: string;
}

export type ResourceType = PolicyScopeKind | 'identity' | 'roleAssignment' | 'namedValue' | 'backend';

/** One resource in a plan. */
export interface Change {
  address: Address;
  action: ChangeAction;
  /** What kind of resource: a `policy` at a scope, a `fragment`, the instance's `identity`, a `roleAssignment`, a `namedValue`, a `backend`. */
  resourceType: ResourceType;
  /** The desired file, when the resource is in the policies tree. */
  file?: string;
  /** Unified diff of the canonical forms (absent for noop). */
  diff?: string;
  /** Lines added / removed in `diff`. */
  added?: number;
  removed?: number;
  /** Set when the two sides differ in too many lines to diff: `diff` then says "content replaced" with these canonical line counts. */
  replaced?: { before: number; after: number };
  /**
   * What apply will write (create / update). `xml`: the content as written in the tree — a policy
   * document, or for a named value or backend its properties as JSON with `{#TOKEN#}`s unresolved
   * (apply resolves them from the environment and checks them against `sha256`).
   */
  desired?: { xml: string; sha256: string; description?: string };
  /** What the plan saw live (update / delete / noop): its ETag and the hash of its canonical form. */
  live?: { etag?: string; sha256: string };
  /** `identity` changes: the shape live now and the shape apply leaves. */
  identity?: { before: IdentityShape; after: IdentityShape };
  /** `roleAssignment` changes: the assignment to create or delete. */
  roleAssignment?: RoleAssignment;
  /** Why the change takes something away (an identity disabled or detached, an assignment deleted); needs the explicit opt-in. */
  destructive?: string;
  /** Line of the desired entry in its file (identity.yaml). */
  line?: number;
  /**
   * What the change reaches (plan/impact.ts): for a created, updated or deleted fragment, named
   * value or backend, the addresses of the policies that use it once the plan is applied (directly
   * or through fragments). Display only: not part of the content hash.
   */
  impact?: Address[];
  /**
   * What apply checks before it writes (plan/integrity.ts): `content`, the hash of everything apply
   * acts on (address, action, the exact content it writes, the live ETag it writes against);
   * `diff`, the hash of the diff a reviewer read.
   */
  hashes?: { content: string; diff: string };
}

export interface PlanSummary {
  create: number;
  update: number;
  delete: number;
  unchanged: number;
}

/** 2: every change carries `hashes` and the plan its `integrity` hash; apply refuses a plan of format 1. */
export const PLAN_FORMAT_VERSION = 2;

/** The APIM instance a plan was made against; apply refuses a plan whose fingerprint is not its target's. */
export interface AzureSource {
  kind: 'azure';
  /** ARM resource ID of the APIM instance. */
  serviceId: string;
  armEndpoint: string;
  /** Hash of the cloud and the instance (see azure/target.ts). */
  fingerprint: string;
}

/** A plan is plain data: renderers and apply read it, nothing else decides. */
export interface Plan {
  formatVersion: typeof PLAN_FORMAT_VERSION;
  tool: { name: string; version: string };
  createdAt: string;
  /** Where the live state came from: a snapshot folder or an APIM instance. */
  source: { kind: 'snapshot'; path: string } | AzureSource;
  /** The salt of the keyed hashes that stand for secret values in this plan (plan/secrets.ts); absent when the plan has none. */
  secrets?: { salt: string };
  commit?: string;
  summary: PlanSummary;
  /** Every resource of either side, in apply order; `noop` entries carry no diff. */
  changes: Change[];
  /** Findings that do not stop the plan but that a reviewer must see. */
  problems: Diagnostic[];
  /** Set when only what a pull request changes was read (a PR-scoped plan): drift elsewhere is not in it. */
  scoped?: { base: string; read: number; identity: boolean };
  /** Hash of the whole plan but this field (plan/integrity.ts): a change added, removed or edited is caught. */
  integrity?: string;
}

/** A resource as it is live right now: what apply reads before it writes, and keeps in the snapshot. */
export interface LiveCopy {
  address: Address;
  /** The content: policy XML; for a named value or backend, its `properties` as JSON (a secret's value left out). */
  xml: string;
  etag?: string;
  description?: string;
  /** A secret named value's value (ARM `listValue`). In memory only: never written to a plan, snapshot or log. */
  secret?: string;
}

/** The writes apply needs; the Azure implementation goes through ARM, tests may use any other. */
export interface LiveWriter {
  /** The resource as it is now, or undefined when it does not exist. */
  read(address: Address): Promise<LiveCopy | undefined>;
  /** Creates or replaces; `ifMatch` guards against a concurrent change (412 when stale). */
  put(address: Address, xml: string, options: { ifMatch?: string; description?: string }): Promise<{ etag?: string }>;
  /** Deletes; `ifMatch` is the ETag the caller saw, or `*`. */
  remove(address: Address, ifMatch: string): Promise<void>;
}

/** The instance's identity as apply reads it back: the shape and the system identity's principal. */
export interface IdentityState {
  shape: IdentityShape;
  systemPrincipalId?: string;
}

/** The identity and RBAC writes apply needs (ARM in production; any other in tests). */
export interface IdentityWriter {
  readIdentity(): Promise<IdentityState>;
  /** Sets the identity to exactly `shape` (detaching what `previous` had and `shape` has not); returns it as it is after. */
  setIdentity(shape: IdentityShape, previous: IdentityShape): Promise<IdentityState>;
  /** The assignment with this name at this scope, or undefined. */
  readAssignment(scope: string, name: string): Promise<{ principalId: string; roleDefinitionGuid: string } | undefined>;
  /** Creates it; an assignment of the same (scope, principal, role) under any name counts as done. */
  createAssignment(assignment: RoleAssignment & { name: string; principalId: string }): Promise<void>;
  deleteAssignment(scope: string, name: string): Promise<void>;
}
