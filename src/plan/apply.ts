/**
 * Applies exactly a plan: nothing that is not in it, nothing if live moved since it was made.
 *
 * 1. Refuse a plan for another instance, one with error problems, or one with nothing to do.
 * 2. Read every resource it will touch; any that is not as the plan saw it (ETag, existence) stops
 *    the run before the first write, naming each.
 * 3. Write the snapshot file: every touched resource as it is now.
 * 4. Write in plan order (fragments → global → product → API → operation; deletes after, in
 *    reverse), each level concurrently, with `If-Match` = the ETag the plan recorded.
 * 5. On any failure: restore what this run wrote, in reverse order, and report each restore.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parsePolicyAddress, SCOPE_ORDER } from '../model/address.js';
import type { Address, Change, LiveCopy, LiveWriter, Plan } from '../model/index.js';
import { canonicalize, parsePolicyDocument } from '../policy-xml/index.js';
import { sha256 } from './compute.js';

export const SNAPSHOT_FORMAT_VERSION = 1;

export interface Snapshot {
  formatVersion: typeof SNAPSHOT_FORMAT_VERSION;
  createdAt: string;
  serviceId: string;
  /** Every resource apply was about to touch, as it was before the first write; `xml` absent = did not exist. */
  resources: Array<{ address: Address; existed: boolean; xml?: string; etag?: string; description?: string }>;
}

export type ApplyEvent =
  | { type: 'write'; change: Change }
  | { type: 'written'; change: Change }
  | { type: 'restore'; address: Address; ok: boolean; message: string };

export interface ApplyOptions {
  /** Fingerprint of the instance this run is logged in to; must equal the plan's. */
  targetFingerprint: string;
  allowDeletes: boolean;
  /** Where the pre-apply snapshot goes. */
  snapshotFile: string;
  onEvent?: (event: ApplyEvent) => void;
  now?: () => Date;
}

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
  restored: RestoreReport[];
  snapshotFile?: string;
  /** What went wrong, when `ok` is false. */
  error?: string;
}

/** A refusal before anything was written. */
export class ApplyRefusedError extends Error {
  override readonly name = 'ApplyRefusedError';
  constructor(
    message: string,
    /** Addresses that changed live since the plan. */
    readonly changed: Address[] = [],
  ) {
    super(message);
  }
}

export function bareEtag(etag: string | undefined): string | undefined {
  return etag?.trim().replace(/^W\//, '').replace(/^"(.*)"$/, '$1');
}

function canonicalHash(address: Address, xml: string): string | undefined {
  try {
    const kind = parsePolicyAddress(address)?.kind === 'fragment' ? 'fragment' : 'policies';
    return sha256(canonicalize(parsePolicyDocument(xml, { file: address, expect: kind })));
  } catch {
    return undefined;
  }
}

const statusOf = (e: unknown) => (e as { statusCode?: number })?.statusCode;

/** Why `now` is not what the plan saw, or undefined when it is. */
function driftOf(change: Change, now: LiveCopy | undefined): string | undefined {
  if (change.action === 'create') return now ? `${change.address} was created live since the plan` : undefined;
  if (!now) return `${change.address} was deleted live since the plan`;
  const planned = bareEtag(change.live?.etag);
  if (planned !== undefined && planned !== bareEtag(now.etag)) {
    return `${change.address} was changed live since the plan (ETag ${change.live!.etag} then, ${now.etag} now)`;
  }
  if (planned === undefined && change.live && canonicalHash(change.address, now.xml) !== change.live.sha256) {
    return `${change.address} was changed live since the plan`;
  }
  return undefined;
}

/** Groups changes by apply level, keeping plan order (the plan lists them in apply order). */
function levels(changes: Change[]): Change[][] {
  const out: Change[][] = [];
  let key = '';
  for (const c of changes) {
    const k = `${c.action === 'delete'}:${SCOPE_ORDER.indexOf(c.resourceType)}`;
    if (k !== key || out.length === 0) out.push([]);
    key = k;
    out[out.length - 1]!.push(c);
  }
  return out;
}

export async function applyPlan(plan: Plan, writer: LiveWriter, options: ApplyOptions): Promise<ApplyResult> {
  if (plan.source.kind !== 'azure') {
    throw new ApplyRefusedError(`this plan was made against the snapshot folder ${plan.source.path}, not a live instance; plan against the instance and apply that plan`);
  }
  if (plan.source.fingerprint !== options.targetFingerprint) {
    throw new ApplyRefusedError(`this plan was made for ${plan.source.serviceId} at ${plan.source.armEndpoint}, not for the instance this run targets; plan again against the target`);
  }
  const blocking = plan.problems.filter((p) => p.severity === 'error');
  if (blocking.length) {
    throw new ApplyRefusedError(`the plan has ${blocking.length} problem(s) APIM would refuse (first: ${blocking[0]!.file}:${blocking[0]!.line} ${blocking[0]!.message}); fix them and plan again`);
  }
  const skippedDeletes = plan.changes.filter((c) => c.action === 'delete' && !options.allowDeletes);
  const todo = plan.changes.filter((c) => c.action !== 'noop' && !(c.action === 'delete' && !options.allowDeletes));
  const result: ApplyResult = { ok: true, applied: [], skippedDeletes, restored: [] };
  if (todo.length === 0) return result;

  // 2. Is live still what the plan saw?
  const current = await Promise.all(todo.map((c) => writer.read(c.address)));
  const drift = todo.map((c, i) => ({ address: c.address, why: driftOf(c, current[i]) })).filter((d) => d.why !== undefined);
  if (drift.length) {
    throw new ApplyRefusedError(
      `live changed since the plan, so it no longer shows what apply would do; nothing was written. ${drift.map((d) => d.why).join('; ')}. Plan again and review.`,
      drift.map((d) => d.address),
    );
  }

  // 3. Snapshot before the first write.
  const snapshot: Snapshot = {
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    createdAt: (options.now?.() ?? new Date()).toISOString(),
    serviceId: plan.source.serviceId,
    resources: todo.map((c, i) => {
      const now = current[i];
      if (!now) return { address: c.address, existed: false };
      return { address: c.address, existed: true, xml: now.xml, ...(now.etag ? { etag: now.etag } : {}), ...(now.description !== undefined ? { description: now.description } : {}) };
    }),
  };
  await mkdir(dirname(options.snapshotFile), { recursive: true });
  await writeFile(options.snapshotFile, JSON.stringify(snapshot, null, 2) + '\n');
  result.snapshotFile = options.snapshotFile;

  // 4. Write, level by level.
  const written: Array<{ change: Change; etag?: string }> = [];
  const writeOne = async (change: Change): Promise<void> => {
    options.onEvent?.({ type: 'write', change });
    try {
      if (change.action === 'delete') {
        await writer.remove(change.address, change.live?.etag ?? '*');
        written.push({ change });
      } else {
        const ifMatch = change.action === 'update' ? change.live?.etag : undefined;
        const { etag } = await writer.put(change.address, change.desired!.xml, { ...(ifMatch ? { ifMatch } : {}), ...(change.desired!.description !== undefined ? { description: change.desired!.description } : {}) });
        written.push({ change, ...(etag ? { etag } : {}) });
      }
    } catch (e) {
      // A retried write whose first attempt did land gets 412 from its own ETag: check what is there.
      if (statusOf(e) === 412) {
        const now = await writer.read(change.address);
        const landed = change.action === 'delete' ? !now : !!now && canonicalHash(change.address, now.xml) === change.desired!.sha256;
        if (landed) {
          written.push({ change, ...(now?.etag ? { etag: now.etag } : {}) });
          options.onEvent?.({ type: 'written', change });
          return;
        }
        throw new Error(`${change.address} was changed live while this run applied the plan (412 Precondition Failed); the change made there is kept`, { cause: e });
      }
      throw e;
    }
    options.onEvent?.({ type: 'written', change });
  };

  for (const level of levels(todo)) {
    const outcomes = await Promise.allSettled(level.map(writeOne));
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failure) {
      result.ok = false;
      result.error = (failure.reason as Error)?.message ?? String(failure.reason);
      result.restored = await restore(written, snapshot, writer, options);
      result.applied = written.map((w) => w.change);
      return result;
    }
  }
  result.applied = written.map((w) => w.change);
  return result;
}

/** Puts back what this run wrote, newest first, each guarded by the ETag this run's write left. */
async function restore(written: Array<{ change: Change; etag?: string }>, snapshot: Snapshot, writer: LiveWriter, options: ApplyOptions): Promise<RestoreReport[]> {
  const reports: RestoreReport[] = [];
  for (const { change, etag } of [...written].reverse()) {
    const before = snapshot.resources.find((r) => r.address === change.address)!;
    let report: RestoreReport;
    try {
      if (before.existed) {
        await writer.put(change.address, before.xml!, { ...(etag || change.action !== 'delete' ? { ifMatch: etag ?? '*' } : {}), ...(before.description !== undefined ? { description: before.description } : {}) });
        report = { address: change.address, ok: true, message: change.action === 'delete' ? 're-created as it was' : 'put back as it was' };
      } else {
        await writer.remove(change.address, etag ?? '*');
        report = { address: change.address, ok: true, message: 'deleted again (it did not exist before)' };
      }
    } catch (e) {
      const why = statusOf(e) === 412 ? 'it was changed by someone else after this run wrote it' : ((e as Error)?.message ?? String(e));
      report = { address: change.address, ok: false, message: `NOT restored: ${why}; its earlier content is in ${options.snapshotFile}` };
    }
    reports.push(report);
    options.onEvent?.({ type: 'restore', ...report });
  }
  return reports;
}
