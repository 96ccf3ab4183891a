/**
 * What an apply reports: its events as they happen and its result. Plain data, so the renderers
 * (render/) and the hosts (ci/, cli/) read them without importing the applier.
 */
import type { Address, Change } from './index.js';

/** Most deletes one apply makes unless the workflow says otherwise (input max-deletes, flag --max-deletes; -1: no limit). */
export const DEFAULT_MAX_DELETES = 10;

export type ApplyEvent =
  /** The snapshot is written: sent before the first write, so its path is known even if the run is killed. */
  | { type: 'snapshot'; file: string }
  | { type: 'write'; change: Change }
  /** The apply stops writing and starts restoring (from here on `signal` no longer matters). */
  | { type: 'restoring' }
  | { type: 'written'; change: Change }
  /**
   * A Key Vault named value's write failed after this apply granted the access it needs: apply
   * waits `seconds` for the role assignment to reach Key Vault, then writes it again.
   */
  | { type: 'waiting'; change: Change; seconds: number; waited: number; budget: number }
  | { type: 'restore'; address: Address; ok: boolean; message: string };

export interface RestoreReport {
  address: Address;
  ok: boolean;
  message: string;
}

export interface ApplyResult {
  ok: boolean;
  /** Changes written (and, when `ok` is false, then restored or not: see `restored`). */
  applied: Change[];
  /** Deletes in the plan left alone because deletes were not allowed. */
  skippedDeletes: Change[];
  /** Identity removals and role assignment deletes left alone because they were not allowed. */
  skippedDestructive: Change[];
  restored: RestoreReport[];
  snapshotFile?: string;
  /** What went wrong, when `ok` is false. */
  error?: string;
  /** Set when `signal` stopped the apply: the interruption's reason (e.g. "SIGTERM"). */
  interrupted?: string;
}
