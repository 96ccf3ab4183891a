/**
 * Named values and backends: the resources whose content is ARM `properties` (rows of the kinds
 * table with content `json-properties`). Plain data, like the rest of the model.
 *
 * Secrets never live in the tree: a `{#TOKEN#}` (APIOps's token syntax) in any string of the
 * properties stands for the environment variable `TOKEN`, resolved when a plan or apply runs. The
 * resolved values are kept in memory only; a plan file carries the properties with their tokens
 * and a keyed hash of each resolved string (see plan/secrets.ts).
 */
import type { Address } from './index.js';
import type { EntityKind } from './kinds.js';

export type { EntityKind } from './kinds.js';

export interface EntityResource {
  type: 'entity';
  kind: EntityKind;
  /** `namedValues/<id>`, `backends/<id>`, or the same under `workspaces/<w>/`. */
  address: Address;
  id: string;
  workspace?: string;
  /**
   * ARM `properties`. Desired: as the tree has them (after `configuration.<env>.yaml` overrides),
   * `{#TOKEN#}`s unresolved. Live: as ARM returns them (a secret named value's `value` is absent).
   */
  properties: Record<string, unknown>;
  /** Repository-relative information file (desired side). */
  file?: string;
  /** Line of the file where the properties start (1 when not known). */
  line?: number;
  /** ETag when ARM returned one (live side). */
  etag?: string;
}

/** Named values and backends of one side, keyed by `addressKey`. */
export interface EntityState {
  resources: Map<string, EntityResource>;
}

/**
 * The desired named values and backends of a tree. Only the kinds in `managed` are planned: a tree
 * with no `named values` folder (nor one in a workspace folder) leaves live named values alone —
 * it neither creates, updates nor deletes any; the same for `backends`.
 */
export interface DesiredEntities extends EntityState {
  managed: Set<EntityKind>;
}

/** A secret value as a plan shows it: never the value, the keyed hash's first 16 hex digits. */
export const SECRET_MARK = /^\(secret [0-9a-f]{16}\)$|^\(secret not readable\)$/;
