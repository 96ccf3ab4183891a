/**
 * Applies exactly a plan: nothing that is not in it, nothing if live moved since it was made.
 *
 * 1. Refuse a plan for another instance, one from another tool version or edited since plan wrote
 *    it (integrity.ts), one with error problems, one the workflow's guardrails do not allow, one
 *    that deletes more than max-deletes, or one with nothing to do.
 * 2. Read every resource it will touch; any that is not as the plan saw it (ETag, existence,
 *    content) stops the run before the first write, naming each; so does a diff in the plan that
 *    is not the diff of what is live now and what the plan writes.
 * 3. Write the snapshot file: every touched resource as it is now.
 * 4. Write in order: identities added → role assignments created → policies (fragments → global →
 *    product → API → operation; deletes after, in reverse), each level concurrently, with
 *    `If-Match` = the ETag the plan recorded → role assignments deleted → identities taken away.
 *    Taking away (identities, role assignments) needs its own opt-in, deletes of policies theirs.
 * 5. On any failure: undo what this run wrote, newest first, and report each undo.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parsePolicyAddress, SCOPE_ORDER } from '../model/address.js';
import type { Address, Change, IdentityShape, IdentityWriter, LiveCopy, LiveWriter, Plan, PolicyScopeKind, RoleAssignment } from '../model/index.js';
import { canonicalize, parsePolicyDocument } from '../policy-xml/index.js';
import { policyDiff, sha256 } from './compute.js';
import { integrityRefusal } from './integrity.js';
import { GUARDRAIL_INPUTS, describeAssignment, identityHash, roleAssignmentName, scopeWithin, type Guardrails } from './identity.js';
import { PRIVILEGED_ROLE_GUIDS } from '../identity/manifest.js';

export const SNAPSHOT_FORMAT_VERSION = 1;

/** Most deletes one apply makes unless the workflow says otherwise (input max-deletes, flag --max-deletes; -1: no limit). */
export const DEFAULT_MAX_DELETES = 10;

export interface Snapshot {
  formatVersion: typeof SNAPSHOT_FORMAT_VERSION;
  createdAt: string;
  serviceId: string;
  /** Every resource apply was about to touch, as it was before the first write; `xml` absent = did not exist. */
  resources: Array<{ address: Address; existed: boolean; xml?: string; etag?: string; description?: string }>;
  /** The instance's identity before, when the plan changes it. */
  identity?: IdentityShape;
  /** Role assignments the plan deletes, as they were (to re-create them by hand if needed). */
  roleAssignments?: RoleAssignment[];
}

export type ApplyEvent =
  | { type: 'write'; change: Change }
  | { type: 'written'; change: Change }
  | { type: 'restore'; address: Address; ok: boolean; message: string };

export interface ApplyOptions {
  /** Fingerprint of the instance this run is logged in to; must equal the plan's. */
  targetFingerprint: string;
  allowDeletes: boolean;
  /** Most deletes this apply may make (default DEFAULT_MAX_DELETES); -1 for no limit. */
  maxDeletes?: number;
  /** Disabling or detaching identities and deleting role assignments (otherwise left out and reported). */
  allowDestructiveIdentityChanges?: boolean;
  /** The workflow's guardrails at apply time: a saved plan is checked again against them. */
  guardrails?: Guardrails;
  /** Identity and RBAC writes; needed when the plan changes them. */
  identityWriter?: IdentityWriter;
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
  /** Identity removals and role assignment deletes left alone because they were not allowed. */
  skippedDestructive: Change[];
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

/** Whether the plan's diff for a policy is the diff of `now` (live) and the content the plan writes. */
function reviewedDiffHolds(change: Change, now: LiveCopy | undefined): boolean {
  const canonical = (xml: string) => {
    const kind = parsePolicyAddress(change.address)?.kind === 'fragment' ? 'fragment' : 'policies';
    return canonicalize(parsePolicyDocument(xml, { file: change.address, expect: kind }));
  };
  try {
    const want = change.action === 'delete' ? undefined : change.desired;
    const descriptions = { both: !!want && !!now, ...(now?.description !== undefined ? { live: now.description } : {}), ...(want?.description !== undefined ? { desired: want.description } : {}) };
    const d = policyDiff(change.address, now ? canonical(now.xml) : '', want ? canonical(want.xml) : '', descriptions);
    return d.patch === (change.diff ?? '') && d.added === (change.added ?? 0) && d.removed === (change.removed ?? 0);
  } catch {
    return false;
  }
}

/** The refusal when apply would delete more than `max` resources, or undefined. */
function deleteCountRefusal(pending: Change[], allowDeletes: boolean, destructiveOk: boolean, narrowing: { from: IdentityShape; to: IdentityShape } | undefined, max: number): string | undefined {
  if (max < 0) return undefined;
  const policies = allowDeletes ? pending.filter((c) => isPolicy(c) && c.action === 'delete').length : 0;
  const assignments = destructiveOk ? pending.filter((c) => c.resourceType === 'roleAssignment' && c.action === 'delete').length : 0;
  let identities = 0;
  if (narrowing) {
    if (narrowing.from.systemAssigned && !narrowing.to.systemAssigned) identities++;
    identities += narrowing.from.userAssigned.filter((id) => !narrowing.to.userAssigned.some((x) => lower(x) === lower(id))).length;
  }
  const total = policies + assignments + identities;
  if (total <= max) return undefined;
  const parts = [
    policies ? `${policies} polic${policies === 1 ? 'y' : 'ies'}` : '',
    assignments ? `${assignments} role assignment(s)` : '',
    identities ? `${identities} identit${identities === 1 ? 'y' : 'ies'} taken away` : '',
  ].filter(Boolean);
  return (
    `this plan deletes ${total} resources (${parts.join(', ')}), more than max-deletes allows (${max}); nothing was written. ` +
    `If that many deletes are meant, raise the limit for this run: --max-deletes ${total} (action input max-deletes: ${total}), or -1 for no limit.`
  );
}

/** Groups policy changes by apply level, keeping plan order (the plan lists them in apply order). */
function levels(changes: Change[]): Change[][] {
  const out: Change[][] = [];
  let key = '';
  for (const c of changes) {
    const k = `${c.action === 'delete'}:${SCOPE_ORDER.indexOf(c.resourceType as PolicyScopeKind)}`;
    if (k !== key || out.length === 0) out.push([]);
    key = k;
    out[out.length - 1]!.push(c);
  }
  return out;
}

const isPolicy = (c: Change) => c.resourceType !== 'identity' && c.resourceType !== 'roleAssignment';
const lower = (s: string) => s.toLowerCase();

function union(a: IdentityShape, b: IdentityShape): IdentityShape {
  const ids = [...a.userAssigned];
  for (const id of b.userAssigned) if (!ids.some((x) => lower(x) === lower(id))) ids.push(id);
  return { systemAssigned: a.systemAssigned || b.systemAssigned, userAssigned: ids };
}

/** The workflow's guardrails, checked again at apply time (a saved plan may come from a looser workflow). */
function guardrailRefusals(changes: Change[], guardrails: Guardrails | undefined): string[] {
  if (!guardrails) return [];
  const out: string[] = [];
  for (const c of changes) {
    const a = c.roleAssignment;
    if (c.action !== 'create' || !a) continue;
    if (PRIVILEGED_ROLE_GUIDS.has(lower(a.roleDefinitionGuid)) && !guardrails.allowPrivilegedRoles) {
      out.push(`${describeAssignment(a)}: "${a.roleName}" is a privileged role; ${GUARDRAIL_INPUTS.privileged} allows it`);
    }
    if (!guardrails.allowedScopes.some((s) => scopeWithin(a.scope, s))) {
      out.push(`${describeAssignment(a)}: ${a.scope} is outside the allowed scopes (${guardrails.allowedScopes.join(', ')}); ${GUARDRAIL_INPUTS.scopes} allows it`);
    }
  }
  return out;
}

/** One write done by this run, and how to take it back. */
interface Done {
  change: Change;
  undo: () => Promise<string>;
}

export async function applyPlan(plan: Plan, writer: LiveWriter, options: ApplyOptions): Promise<ApplyResult> {
  if (plan.source.kind !== 'azure') {
    throw new ApplyRefusedError(`this plan was made against the snapshot folder ${plan.source.path}, not a live instance; plan against the instance and apply that plan`);
  }
  if (plan.source.fingerprint !== options.targetFingerprint) {
    throw new ApplyRefusedError(`this plan was made for ${plan.source.serviceId} at ${plan.source.armEndpoint}, not for the instance this run targets; plan again against the target`);
  }
  const tampered = integrityRefusal(plan);
  if (tampered) throw new ApplyRefusedError(tampered.message, tampered.addresses);
  const blocking = plan.problems.filter((p) => p.severity === 'error');
  if (blocking.length) {
    throw new ApplyRefusedError(`the plan has ${blocking.length} problem(s) that stop it (first: ${blocking[0]!.file}:${blocking[0]!.line} ${blocking[0]!.message}); fix them and plan again`);
  }
  const refusals = guardrailRefusals(plan.changes, options.guardrails);
  if (refusals.length) throw new ApplyRefusedError(`the workflow's guardrails refuse this plan; nothing was written. ${refusals.join('; ')}`);

  const destructiveOk = options.allowDestructiveIdentityChanges === true;
  const pending = plan.changes.filter((c) => c.action !== 'noop');
  const skippedDeletes = pending.filter((c) => isPolicy(c) && c.action === 'delete' && !options.allowDeletes);
  const skippedDestructive = pending.filter((c) => !isPolicy(c) && c.destructive && !destructiveOk);
  const policies = pending.filter((c) => isPolicy(c) && !(c.action === 'delete' && !options.allowDeletes));
  const identityChange = pending.find((c) => c.resourceType === 'identity' && c.identity);
  const creates = pending.filter((c) => c.resourceType === 'roleAssignment' && c.action === 'create');
  const deletes = destructiveOk ? pending.filter((c) => c.resourceType === 'roleAssignment' && c.action === 'delete') : [];
  // The identity: what is added goes first, what is taken away last (and only when allowed).
  const before = identityChange?.identity?.before;
  const wanted = identityChange?.identity?.after;
  const widened = before && wanted ? union(before, wanted) : undefined;
  const addsIdentity = !!before && !!widened && identityHash(widened) !== identityHash(before);
  const narrowsIdentity = !!wanted && !!widened && destructiveOk && identityHash(widened) !== identityHash(wanted);
  const tooMany = deleteCountRefusal(pending, options.allowDeletes, destructiveOk, narrowsIdentity ? { from: widened!, to: wanted! } : undefined, options.maxDeletes ?? DEFAULT_MAX_DELETES);
  if (tooMany) throw new ApplyRefusedError(tooMany);
  const result: ApplyResult = { ok: true, applied: [], skippedDeletes, skippedDestructive, restored: [] };
  if (!policies.length && !creates.length && !deletes.length && !addsIdentity && !narrowsIdentity) return result;
  const ids = options.identityWriter;
  if (!ids && (identityChange || creates.length || deletes.length)) throw new ApplyRefusedError('this plan changes identities or role assignments, but this run has no access to them');

  // 2. Is live still what the plan saw?
  const current = await Promise.all(policies.map((c) => writer.read(c.address)));
  const drift = policies.map((c, i) => ({ address: c.address, why: driftOf(c, current[i]) })).filter((d) => d.why !== undefined);
  if (identityChange) {
    const now = await ids!.readIdentity();
    if (identityHash(now.shape) !== identityChange.live?.sha256) drift.push({ address: 'identity', why: 'identity was changed live since the plan' });
  }
  const alreadyThere = new Set<Change>();
  await Promise.all(
    [...creates.filter((c) => c.roleAssignment?.name), ...deletes].map(async (c) => {
      const a = c.roleAssignment!;
      const now = await ids!.readAssignment(a.scope, a.name!);
      if (c.action === 'delete' && !now) drift.push({ address: c.address, why: `${c.address} was deleted live since the plan` });
      // A create that is already there (same principal and role) is done: apply is idempotent.
      if (c.action === 'create' && now) {
        if (lower(now.principalId) === lower(a.principalId ?? '') && lower(now.roleDefinitionGuid) === lower(a.roleDefinitionGuid)) alreadyThere.add(c);
        else drift.push({ address: c.address, why: `${c.address} exists live with other content` });
      }
    }),
  );
  if (drift.length) {
    throw new ApplyRefusedError(
      `live changed since the plan, so it no longer shows what apply would do; nothing was written. ${drift.map((d) => d.why).join('; ')}. Plan again and review.`,
      drift.map((d) => d.address),
    );
  }
  // The diff reviewed is the diff of what is live now and what apply writes: derived again, not trusted.
  const misdiffed = policies.filter((c, i) => !reviewedDiffHolds(c, current[i])).map((c) => c.address);
  if (misdiffed.length) {
    throw new ApplyRefusedError(
      `the diff in the plan is not the change apply would make, so it is not what was reviewed; nothing was written. ${misdiffed.map((a) => `${a}: its diff does not match its content and what is live`).join('; ')}. Plan again and review that plan.`,
      misdiffed,
    );
  }

  // 3. Snapshot before the first write.
  const snapshot: Snapshot = {
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    createdAt: (options.now?.() ?? new Date()).toISOString(),
    serviceId: plan.source.serviceId,
    resources: policies.map((c, i) => {
      const now = current[i];
      if (!now) return { address: c.address, existed: false };
      return { address: c.address, existed: true, xml: now.xml, ...(now.etag ? { etag: now.etag } : {}), ...(now.description !== undefined ? { description: now.description } : {}) };
    }),
    ...(before ? { identity: before } : {}),
    ...(deletes.length ? { roleAssignments: deletes.map((c) => c.roleAssignment!) } : {}),
  };
  await mkdir(dirname(options.snapshotFile), { recursive: true });
  await writeFile(options.snapshotFile, JSON.stringify(snapshot, null, 2) + '\n');
  result.snapshotFile = options.snapshotFile;

  // 4. Write, step by step; each write records how to take it back.
  const done: Done[] = [];
  const step = async (changes: Change[], one: (c: Change) => Promise<Done | undefined>): Promise<boolean> => {
    const outcomes = await Promise.allSettled(
      changes.map(async (c) => {
        options.onEvent?.({ type: 'write', change: c });
        const d = await one(c);
        if (d) {
          done.push(d);
          options.onEvent?.({ type: 'written', change: d.change });
        }
      }),
    );
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (!failure) return true;
    result.ok = false;
    result.error = (failure.reason as Error)?.message ?? String(failure.reason);
    result.restored = await restore(done, options);
    result.applied = done.map((d) => d.change);
    return false;
  };

  let systemPrincipalId: string | undefined;
  if (addsIdentity) {
    const ok = await step([identityChange!], async (c) => {
      const after = await ids!.setIdentity(widened!, before!);
      systemPrincipalId = after.systemPrincipalId;
      return { change: c, undo: async () => (await ids!.setIdentity(before!, widened!), 'identity set back as it was') };
    });
    if (!ok) return result;
  }
  const createsOk = await step(creates, async (c) => {
    const a = c.roleAssignment!;
    if (alreadyThere.has(c)) return undefined;
    const principalId = a.principalId ?? (lower(a.identity) === 'system' ? (systemPrincipalId ?? (await ids!.readIdentity()).systemPrincipalId) : undefined);
    if (!principalId) throw new Error(`${c.address}: the principal of ${a.identity} is still unknown after the identity was set`);
    const name = a.name ?? roleAssignmentName(a.scope, principalId, a.roleDefinitionGuid);
    const resolved: RoleAssignment & { name: string; principalId: string } = { ...a, name, principalId };
    await ids!.createAssignment(resolved);
    return {
      change: { ...c, address: `roleAssignments/${name}`, roleAssignment: resolved },
      undo: async () => (await ids!.deleteAssignment(a.scope, name), 'deleted again (it did not exist before)'),
    };
  });
  if (!createsOk) return result;

  const written: Array<{ change: Change; etag?: string }> = [];
  for (const level of levels(policies)) {
    const ok = await step(level, async (change) => {
      const w = await writePolicy(change, writer);
      written.push(w);
      return { change, undo: () => restorePolicy(w, snapshot, writer, options) };
    });
    if (!ok) return result;
  }
  const deletesOk = await step(deletes, async (c) => {
    const a = c.roleAssignment!;
    await ids!.deleteAssignment(a.scope, a.name!);
    return { change: c, undo: async () => (await ids!.createAssignment(a as RoleAssignment & { name: string; principalId: string }), 're-created as it was') };
  });
  if (!deletesOk) return result;
  if (narrowsIdentity) {
    const ok = await step([identityChange!], async (c) => {
      await ids!.setIdentity(wanted!, widened!);
      return { change: c, undo: async () => (await ids!.setIdentity(widened!, wanted!), 'identity set back as it was') };
    });
    if (!ok) return result;
  }
  // One identity change may have been written in two steps: report it once.
  result.applied = done.map((d) => d.change).filter((c, i, all) => c.resourceType !== 'identity' || all.findIndex((x) => x.resourceType === 'identity') === i);
  return result;
}

/** Writes one policy change with If-Match; a retried write whose first attempt landed is recognised. */
async function writePolicy(change: Change, writer: LiveWriter): Promise<{ change: Change; etag?: string }> {
  try {
    if (change.action === 'delete') {
      await writer.remove(change.address, change.live?.etag ?? '*');
      return { change };
    }
    const ifMatch = change.action === 'update' ? change.live?.etag : undefined;
    const { etag } = await writer.put(change.address, change.desired!.xml, { ...(ifMatch ? { ifMatch } : {}), ...(change.desired!.description !== undefined ? { description: change.desired!.description } : {}) });
    return { change, ...(etag ? { etag } : {}) };
  } catch (e) {
    // A retried write whose first attempt did land gets 412 from its own ETag: check what is there.
    if (statusOf(e) === 412) {
      const now = await writer.read(change.address);
      const landed = change.action === 'delete' ? !now : !!now && canonicalHash(change.address, now.xml) === change.desired!.sha256;
      if (landed) return { change, ...(now?.etag ? { etag: now.etag } : {}) };
      throw new Error(`${change.address} was changed live while this run applied the plan (412 Precondition Failed); the change made there is kept`, { cause: e });
    }
    throw e;
  }
}

/** Puts one policy back as the snapshot has it, guarded by the ETag this run's write left. */
async function restorePolicy(w: { change: Change; etag?: string }, snapshot: Snapshot, writer: LiveWriter, options: ApplyOptions): Promise<string> {
  const { change, etag } = w;
  const before = snapshot.resources.find((r) => r.address === change.address)!;
  try {
    if (before.existed) {
      await writer.put(change.address, before.xml!, { ...(etag || change.action !== 'delete' ? { ifMatch: etag ?? '*' } : {}), ...(before.description !== undefined ? { description: before.description } : {}) });
      return change.action === 'delete' ? 're-created as it was' : 'put back as it was';
    }
    await writer.remove(change.address, etag ?? '*');
    return 'deleted again (it did not exist before)';
  } catch (e) {
    if (statusOf(e) === 412) throw new Error(`it was changed by someone else after this run wrote it; its earlier content is in ${options.snapshotFile}`, { cause: e });
    throw new Error(`${(e as Error)?.message ?? String(e)}; its earlier content is in ${options.snapshotFile}`, { cause: e });
  }
}

/** Undoes what this run wrote, newest first, and reports each. */
async function restore(done: Done[], options: ApplyOptions): Promise<RestoreReport[]> {
  const reports: RestoreReport[] = [];
  for (const d of [...done].reverse()) {
    let report: RestoreReport;
    try {
      report = { address: d.change.address, ok: true, message: await d.undo() };
    } catch (e) {
      report = { address: d.change.address, ok: false, message: `NOT restored: ${(e as Error)?.message ?? String(e)}` };
    }
    reports.push(report);
    options.onEvent?.({ type: 'restore', ...report });
  }
  return reports;
}
