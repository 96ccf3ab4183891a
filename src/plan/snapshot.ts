/**
 * The snapshot of an apply: every resource it is about to touch as it was before, written before
 * the first write, and brought up to date as each write lands with what ARM answered to it (the
 * ETag this run's own write returned). So the file alone says, even after the process was killed
 * with SIGKILL, which live resources are still exactly what the run wrote — and `restore` puts
 * those back, guarded by that ETag, without undoing anyone else's change made since.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { roleAssignmentAddress } from '../model/address.js';
import { isEntityKind, parseAddress, rankOf } from '../model/kinds.js';
import { entityRestoreBody } from './entity-apply.js';
import { canonicalHashOf, stableJson } from './integrity.js';
import { PreconditionFailed } from '../model/live-errors.js';
import type { Address, IdentityShape, IdentityWriter, LiveCopy, LiveWriter, RoleAssignment } from '../model/index.js';
import { sha256 } from './policies.js';
import { identityHash } from './identity.js';
import { createPrivateFile, replacePrivateFile } from './private-file.js';

export const SNAPSHOT_FORMAT_VERSION = 2;

export interface SnapshotResource {
  address: Address;
  /** What the apply does to it (absent in snapshots of format 1). */
  action?: 'create' | 'update' | 'delete';
  /** As it was before the apply; `xml` absent = it did not exist. */
  existed: boolean;
  xml?: string;
  etag?: string;
  description?: string;
  /** Hash of the canonical form of what the apply writes (create / update). */
  writes?: string;
  /** Set once ARM confirmed this run's own write: what that write left (`etag`: the ETag ARM returned for it). */
  after?: { existed: boolean; etag?: string };
}

export type ConfirmedAssignment = RoleAssignment & { name: string; principalId: string };

export interface Snapshot {
  formatVersion: 1 | typeof SNAPSHOT_FORMAT_VERSION;
  createdAt: string;
  serviceId: string;
  armEndpoint?: string;
  /** Fingerprint of the instance (see azure/target.ts): `restore` refuses another. */
  fingerprint?: string;
  resources: SnapshotResource[];
  /** The instance's identity before, when the plan changes it. */
  identity?: IdentityShape;
  /** The identity as this run's last confirmed identity write left it. */
  identityAfter?: IdentityShape;
  /** Role assignments the plan deletes, as they were (to re-create them). */
  roleAssignments?: RoleAssignment[];
  /** Names of those this run confirmed deleting. */
  roleAssignmentsDeleted?: string[];
  /** Role assignments this run confirmed creating. */
  roleAssignmentsCreated?: ConfirmedAssignment[];
}

const json = (s: Snapshot) => JSON.stringify(s, null, 2) + '\n';

/**
 * The snapshot file of a running apply: created once (0600, exclusively), then replaced whole at
 * each update. Updates made while a write of the file is waiting to start share that write (a
 * level of many concurrent writes does not rewrite the file once per resource).
 */
export class SnapshotFile {
  private chain: Promise<void> = Promise.resolve();
  /** The next write of the file, not started yet: it will hold every change made until it starts. */
  private next: Promise<void> | undefined;
  private constructor(
    readonly path: string,
    readonly data: Snapshot,
  ) {}

  static async create(path: string, data: Snapshot): Promise<SnapshotFile> {
    await mkdir(dirname(path), { recursive: true });
    await createPrivateFile(path, json(data), 'snapshot');
    return new SnapshotFile(path, data);
  }

  /** Applies `change`; resolves once the file on disk holds it. */
  update(change: (s: Snapshot) => void): Promise<void> {
    change(this.data);
    if (!this.next) {
      const next = this.chain.then(() => {
        this.next = undefined;
        return replacePrivateFile(this.path, json(this.data), 'snapshot');
      });
      this.next = next;
      this.chain = next.catch(() => undefined);
    }
    return this.next;
  }
}

export interface SnapshotRestoreReport {
  address: Address;
  /** `restored`: written back; `unchanged`: already as the snapshot has it; `not-restored`: left as it is (see message). */
  outcome: 'restored' | 'unchanged' | 'not-restored';
  message: string;
}

const bare = (etag: string | undefined) =>
  etag
    ?.trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');

function canonicalHash(address: Address, xml: string): string {
  // A named value or backend: its properties compared whatever their order.
  if (isEntityKind(parseAddress(address)?.kind ?? '')) {
    try {
      return `json:${sha256(stableJson(JSON.parse(xml)))}`;
    } catch {
      return `raw:${sha256(xml)}`;
    }
  }
  return canonicalHashOf(address, xml).sha256 ?? `raw:${sha256(xml)}`;
}

/** What `restore` does with one resource: decided from the snapshot and live alone. */
export type RestoreDecision =
  { do: 'nothing'; message: string } | { do: 'put'; ifMatch?: string; message: string } | { do: 'delete'; ifMatch: string; message: string } | { do: 'refuse'; message: string };

/**
 * Puts back only what is provably still this run's write: live's ETag is the one ARM returned for
 * the run's own write (or, for a delete of the run, it is still absent). Anything else changed
 * since — by someone else, or by a write of the run ARM never confirmed — is reported and left
 * alone, unless `force`: then the snapshot's content goes back over it, guarded by the ETag just
 * read (so what is overwritten is exactly what was reported).
 */
export function restoreDecision(r: SnapshotResource, live: LiveCopy | undefined, force: boolean): RestoreDecision {
  const sameAsBefore = r.existed ? !!live && canonicalHash(r.address, live.xml) === canonicalHash(r.address, r.xml!) && (live.description ?? '') === (r.description ?? '') : !live;
  if (sameAsBefore) return { do: 'nothing', message: 'already as it was' };
  const after = r.after;
  const proven = !!after && (after.existed ? !!live && !!after.etag && bare(live.etag) === bare(after.etag) : !live);
  if (proven || force) {
    const over = proven ? '' : ` (over a change made since: --force)`;
    if (!r.existed) return { do: 'delete', ifMatch: live!.etag ?? '*', message: `deleted again (it did not exist before)${over}` };
    if (!live) return { do: 'put', message: `re-created as it was${over}` };
    return { do: 'put', ...(live.etag ? { ifMatch: live.etag } : {}), message: `put back as it was${over}` };
  }
  let why: string;
  if (after) {
    why = !after.existed
      ? 'it was created again after the apply deleted it'
      : live
        ? `it was changed after the apply wrote it (ETag ${after.etag ?? 'unknown'} then, ${live.etag ?? 'unknown'} now)`
        : 'it was deleted after the apply wrote it';
  } else if (live && r.writes && canonicalHash(r.address, live.xml) === r.writes) {
    why = 'it has the content the apply was writing, but ARM never confirmed that write to the apply (it may have landed as the run stopped, or another run wrote the same content)';
  } else {
    why = `it ${live ? (r.existed ? 'was changed' : 'was created') : 'was deleted'} live, and not by a write of the apply that ARM confirmed`;
  }
  return { do: 'refuse', message: `NOT restored: ${why}; check it, then pass --force to put the snapshot's content back over it` };
}

const lower = (s: string) => s.toLowerCase();
const errorText = (e: unknown) => (e as Error)?.message ?? String(e);

async function restoreResource(r: SnapshotResource, writer: LiveWriter, force: boolean): Promise<SnapshotRestoreReport> {
  const address = r.address;
  try {
    const live = await writer.read(address);
    const d = restoreDecision(r, live, force);
    if (d.do === 'nothing') return { address, outcome: 'unchanged', message: d.message };
    if (d.do === 'refuse') return { address, outcome: 'not-restored', message: d.message };
    let content = r.xml;
    if (d.do === 'put' && isEntityKind(parseAddress(address)?.kind ?? '')) {
      const body = entityRestoreBody(address, r.xml!, undefined);
      if ('refuse' in body) return { address, outcome: 'not-restored', message: `NOT restored: ${body.refuse}` };
      content = body.body;
    }
    if (d.do === 'put') await writer.put(address, content!, { ...(d.ifMatch ? { ifMatch: d.ifMatch } : {}), ...(r.description !== undefined ? { description: r.description } : {}) });
    else await writer.remove(address, d.ifMatch);
    return { address, outcome: 'restored', message: d.message };
  } catch (e) {
    if (e instanceof PreconditionFailed)
      return { address, outcome: 'not-restored', message: 'NOT restored: it changed again while restore ran (412 Precondition Failed); run restore again to see how it stands' };
    return { address, outcome: 'not-restored', message: `NOT restored: ${errorText(e)}` };
  }
}

/** Policies grouped as apply wrote them, last group first: what depends on a fragment goes back before it. */
function restoreLevels(resources: SnapshotResource[]): SnapshotResource[][] {
  const out: SnapshotResource[][] = [];
  let key = '';
  for (const r of [...resources].reverse()) {
    const k = `${r.action === 'delete'}:${rankOf(parseAddress(r.address)?.kind ?? '')}`;
    if (k !== key || out.length === 0) out.push([]);
    key = k;
    out[out.length - 1]!.push(r);
  }
  return out;
}

export interface RestoreSnapshotOptions {
  force: boolean;
  onReport?: (report: SnapshotRestoreReport) => void;
}

/**
 * Puts back every resource of a snapshot that is still as the apply left it (see restoreDecision),
 * then the role assignments and the identity. Returns one report per resource.
 */
export async function restoreSnapshot(snapshot: Snapshot, writer: LiveWriter, identities: IdentityWriter | undefined, options: RestoreSnapshotOptions): Promise<SnapshotRestoreReport[]> {
  const reports: SnapshotRestoreReport[] = [];
  const report = (r: SnapshotRestoreReport) => {
    reports.push(r);
    options.onReport?.(r);
  };
  for (const level of restoreLevels(snapshot.resources)) {
    for (const r of await Promise.all(level.map((x) => restoreResource(x, writer, options.force)))) report(r);
  }
  const hasIdentityParts = !!(snapshot.identity || snapshot.roleAssignments?.length || snapshot.roleAssignmentsCreated?.length);
  if (!hasIdentityParts) return reports;
  if (!identities) {
    report({ address: 'identity', outcome: 'not-restored', message: 'NOT restored: the snapshot holds identity or role assignment changes, and this run has no access to them' });
    return reports;
  }
  const guard = async (address: string, fn: () => Promise<SnapshotRestoreReport>) => {
    try {
      report(await fn());
    } catch (e) {
      report({ address, outcome: 'not-restored', message: `NOT restored: ${errorText(e)}` });
    }
  };
  // Role assignments the apply created: deleted again while they are still exactly that grant.
  for (const a of snapshot.roleAssignmentsCreated ?? []) {
    const address = roleAssignmentAddress(a.name);
    await guard(address, async () => {
      const now = await identities.readAssignment(a.scope, a.name);
      if (!now) return { address, outcome: 'unchanged', message: 'already gone (it did not exist before)' };
      const same = lower(now.principalId) === lower(a.principalId) && lower(now.roleDefinitionGuid) === lower(a.roleDefinitionGuid);
      if (!same && !options.force)
        return { address, outcome: 'not-restored', message: 'NOT restored: it now grants another role or principal than the apply created; check it, then pass --force to delete it' };
      await identities.deleteAssignment(a.scope, a.name);
      return { address, outcome: 'restored', message: `deleted again (${a.roleName} for ${a.identity} on ${a.scope}; it did not exist before)` };
    });
  }
  // Role assignments the plan deletes: re-created as they were when they are gone.
  const deleted = new Set((snapshot.roleAssignmentsDeleted ?? []).map(lower));
  for (const a of snapshot.roleAssignments ?? []) {
    const address = roleAssignmentAddress(a.name ?? '(unnamed)');
    await guard(address, async () => {
      if (!a.name || !a.principalId)
        return { address, outcome: 'not-restored', message: `NOT restored: the snapshot does not name it or its principal (${a.roleName} for ${a.identity} on ${a.scope}); re-create it by hand` };
      const now = await identities.readAssignment(a.scope, a.name);
      if (now) return { address, outcome: 'unchanged', message: 'already there' };
      if (!deleted.has(lower(a.name)) && !options.force) {
        return { address, outcome: 'not-restored', message: 'NOT restored: it is gone, but the apply never confirmed deleting it; check it, then pass --force to re-create it' };
      }
      await identities.createAssignment(a as ConfirmedAssignment);
      return { address, outcome: 'restored', message: `re-created as it was (${a.roleName} for ${a.identity} on ${a.scope})` };
    });
  }
  if (snapshot.identity) {
    const before = snapshot.identity;
    await guard('identity', async () => {
      const now = (await identities.readIdentity()).shape;
      if (identityHash(now) === identityHash(before)) return { address: 'identity', outcome: 'unchanged', message: 'already as it was' };
      const mine = !!snapshot.identityAfter && identityHash(now) === identityHash(snapshot.identityAfter);
      if (!mine && !options.force) {
        return { address: 'identity', outcome: 'not-restored', message: 'NOT restored: the identity is neither as it was nor as the apply left it; check it, then pass --force to set it back' };
      }
      await identities.setIdentity(before, now);
      const note = before.systemAssigned && !now.systemAssigned ? ' (the system-assigned identity comes back with a new principal: grants to the old one do not apply to it)' : '';
      return { address: 'identity', outcome: 'restored', message: `identity set back as it was${note}` };
    });
  }
  return reports;
}
