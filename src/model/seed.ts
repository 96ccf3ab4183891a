/**
 * The live state an emulator starts with (`apim-policy emulator --seed DIR`): plain data the
 * product's loader builds from a tree (src/cli/emulator-seed.ts), so the emulator never reads a
 * tree itself (src/emulator/seed.ts stores it as ARM would).
 */
import type { Address } from './index.js';

/** An API, operation, product or workspace the instance has, by its address (`apis/orders`, `apis/orders/operations/send`, `products/p`, `workspaces/w`, `workspaces/w/apis/a`). */
export interface LiveSeedEntity {
  address: string;
  displayName?: string;
}

/** A named value or backend from `[workspaces/<w>/]named values/<name>/…` or `…backends/<name>/…`. */
export interface LiveSeedApiopsEntity {
  name: string;
  /** The workspace it belongs to; absent = the service's. */
  workspace?: string;
  properties: Record<string, unknown>;
}

export interface LiveSeed {
  /** Policies and fragments by address, with their XML as written and a fragment's description. */
  policies: Array<{ address: Address; xml: string; description?: string }>;
  /**
   * The APIs, operations, products and workspaces the instance has. ARM refuses a policy under one it
   * lacks, so every policy's parents must be here (the seed is refused otherwise).
   */
  apis: LiveSeedEntity[];
  operations: LiveSeedEntity[];
  products: LiveSeedEntity[];
  workspaces: LiveSeedEntity[];
  /**
   * APIOps named values and backends: the `properties` of their information files, by name, of the
   * service or (`workspace`) of one of the workspaces above.
   */
  namedValues: LiveSeedApiopsEntity[];
  backends: LiveSeedApiopsEntity[];
  /** The instance's identities and role assignments; absent = identity left as the emulator starts (off). */
  identity?: LiveSeedIdentity;
}

export interface LiveSeedIdentity {
  systemAssigned: boolean;
  /** Resource IDs of the attached user-assigned identities. */
  userAssigned: string[];
  roleAssignments: Array<{
    /** `system`, or the resource ID of a user-assigned identity. */
    identity: string;
    scope: string;
    roleDefinitionGuid: string;
  }>;
  /**
   * The name an assignment is stored under, from its scope, principal and role (the product's
   * deterministic name, so a plan recognises the assignments as its own). The principals are the
   * emulator's, so the name is computed when it stores them.
   */
  assignmentName(scope: string, principalId: string, roleDefinitionGuid: string): string;
}
