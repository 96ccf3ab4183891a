/**
 * Applies exactly a plan: nothing that is not in it, nothing if live moved since it was made.
 *
 * 1. Refuse a plan for another instance, one from another tool version or edited since plan wrote
 *    it (integrity.ts), one with error problems, one the workflow's guardrails do not allow, one
 *    that deletes more than max-deletes, or one with nothing to do.
 * 2. Read every resource it will touch; any that is not as the plan saw it (ETag, existence,
 *    content) stops the run before the first write, naming each; so does a diff in the plan that
 *    is not the diff of what is live now and what the plan writes.
 * 3. Write the snapshot file (0600, created exclusively): every touched resource as it is now;
 *    say where it is (`snapshot` event) before the first write.
 * 4. Write in order: identities added → role assignments created → named values → backends →
 *    policies (fragments → global → product → API → operation; deletes after, in reverse), each
 *    level concurrently, with `If-Match` = the ETag the plan recorded (a named value or backend:
 *    the one read in step 2, whose content the plan's hash proved) → role assignments deleted →
 *    identities taken away. `{#TOKEN#}`s are resolved from the environment, and must give the
 *    secrets the plan was made with (their keyed hashes). A Key Vault named value refused because
 *    the access this run granted has not reached Key Vault yet is written again after a wait
 *    (key-vault-wait.ts).
 *    Taking away (identities, role assignments) needs its own opt-in, deletes of policies theirs.
 *    Each write ARM confirms goes into the snapshot with the ETag it returned, before it is reported.
 * 5. On any failure, or when `signal` fires (SIGINT/SIGTERM): start no more writes, let those sent
 *    settle, then undo what this run can prove it wrote (live's ETag is the one its own write
 *    returned), newest first, and report each undo.
 */
import { roleAssignmentAddress } from '../model/address.js';
import { rankOf } from '../model/kinds.js';
import { PreconditionFailed } from '../model/live-errors.js';
import type { Address, Change, IdentityWriter, LiveCopy, LiveWriter, Plan, RoleAssignment } from '../model/index.js';
import { bareEtag, canonicalHash, deleteCountRefusal, driftOf, guardrailRefusals, isPolicy, lower, reviewedDiffHolds, union } from './apply-checks.js';
import { integrityRefusal, isEntityChange } from './integrity.js';
import { checkEntity, entityBody, entityLanded, entityRestoreBody, missingTokens } from './entity-apply.js';
import { secretHasher, type SecretHasher } from './secrets.js';
import { rbacWaitSeconds, writeWaitingForKeyVault, writesKeyVaultValue } from './key-vault-wait.js';
import { identityHash, roleAssignmentName, type Guardrails } from './identity.js';
import { SNAPSHOT_FORMAT_VERSION, SnapshotFile, type Snapshot, type SnapshotResource } from './snapshot.js';

export { SNAPSHOT_FORMAT_VERSION, type Snapshot } from './snapshot.js';
export { DEFAULT_MAX_DELETES, type ApplyEvent, type ApplyResult, type RestoreReport } from '../model/apply.js';
import { DEFAULT_MAX_DELETES, type ApplyEvent, type ApplyResult, type RestoreReport } from '../model/apply.js';
export { bareEtag } from './apply-checks.js';

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
  /** Where the pre-apply snapshot goes: a new file (an existing file or link there is refused). */
  snapshotFile: string;
  onEvent?: (event: ApplyEvent) => void;
  now?: () => Date;
  /** Where `{#TOKEN#}`s of named values and backends are resolved (default: this process's environment). */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Interrupts the apply (SIGINT/SIGTERM): no write starts after it fires, and what this run
   * wrote is restored. Its `reason` (e.g. "SIGTERM") names the interruption in the result.
   */
  signal?: AbortSignal;
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

/** A write the interruption kept from going out (see azure/write-gate.ts). */
const isHalted = (e: unknown) => (e as Error)?.name === 'WritesHaltedError';

/** Groups policy changes by apply level, keeping plan order (the plan lists them in apply order). */
function levels(changes: Change[]): Change[][] {
  const out: Change[][] = [];
  let key = '';
  for (const c of changes) {
    const k = `${c.action === 'delete'}:${rankOf(c.resourceType)}`;
    if (k !== key || out.length === 0) out.push([]);
    key = k;
    out[out.length - 1]!.push(c);
  }
  return out;
}

/** One write done by this run, and how to take it back. */
interface Done {
  change: Change;
  undo: () => Promise<string>;
  /** What ARM confirmed, for the snapshot file (written before the write is reported). */
  record?: (s: Snapshot) => void;
}

/** Thrown for a change not started because the apply was interrupted. */
class NotStarted extends Error {}

const reasonOf = (signal: AbortSignal) => {
  const r: unknown = signal.reason;
  return r instanceof Error ? r.message : typeof r === 'string' ? r : 'interrupted';
};

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
  // Policies, fragments, named values and backends: written level by level in the plan's order.
  const isContent = (c: Change) => isPolicy(c) || isEntityChange(c);
  const skippedDeletes = pending.filter((c) => isContent(c) && c.action === 'delete' && !options.allowDeletes);
  const skippedDestructive = pending.filter((c) => !isContent(c) && c.destructive && !destructiveOk);
  const policies = pending.filter((c) => isContent(c) && !(c.action === 'delete' && !options.allowDeletes));
  const env = options.env ?? process.env;
  const lacking = missingTokens(policies, env);
  if (lacking.length) {
    throw new ApplyRefusedError(
      `this plan writes secrets from the environment that this run does not have; nothing was written. ${lacking.map((m) => `${m.address} needs {#${m.token}#}: set the environment variable ${m.token}`).join('; ')} (in GitHub Actions: env: ${lacking[0]!.token}: \${{ secrets.${lacking[0]!.token} }} on the apply step).`,
      [...new Set(lacking.map((m) => m.address))],
    );
  }
  const hasher: SecretHasher | undefined = plan.secrets ? secretHasher(plan.secrets.salt) : undefined;
  const rbacWait = rbacWaitSeconds(env);
  if (typeof rbacWait !== 'number') throw new ApplyRefusedError(`${rbacWait.error}; nothing was written`);
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
  const nowOf = new Map(policies.map((c, i) => [c, current[i]]));
  const entityChecks = new Map(policies.filter(isEntityChange).map((c) => [c, checkEntity(c, nowOf.get(c), env, hasher!)]));
  const drift = policies.map((c, i) => ({ address: c.address, why: isEntityChange(c) ? entityChecks.get(c)!.drift : driftOf(c, current[i]) })).filter((d) => d.why !== undefined);
  const stale = [...entityChecks.entries()].filter(([, e]) => !e.drift && e.stale);
  if (stale.length && !drift.length) {
    throw new ApplyRefusedError(
      `the secrets in this run's environment are not those the plan was made with, so it would not write what was reviewed; nothing was written. ${stale.map(([, e]) => e.stale).join('; ')}. Plan again with the same secrets as the apply (or apply with those of the plan).`,
      stale.map(([c]) => c.address),
    );
  }
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
  const misdiffed = policies.filter((c, i) => (isEntityChange(c) ? entityChecks.get(c)!.misdiffed : !reviewedDiffHolds(c, current[i]))).map((c) => c.address);
  if (misdiffed.length) {
    throw new ApplyRefusedError(
      `the diff in the plan is not the change apply would make, so it is not what was reviewed; nothing was written. ${misdiffed.map((a) => `${a}: its diff does not match its content and what is live`).join('; ')}. Plan again and review that plan.`,
      misdiffed,
    );
  }

  // 3. Snapshot before the first write.
  const signal = options.signal;
  if (signal?.aborted) throw new ApplyRefusedError(`interrupted (${reasonOf(signal)}) before the first write; nothing was written`);
  const file = await SnapshotFile.create(options.snapshotFile, {
    formatVersion: SNAPSHOT_FORMAT_VERSION,
    createdAt: (options.now?.() ?? new Date()).toISOString(),
    serviceId: plan.source.serviceId,
    armEndpoint: plan.source.armEndpoint,
    fingerprint: plan.source.fingerprint,
    resources: policies.map((c, i): SnapshotResource => {
      const now = current[i];
      const action = c.action as SnapshotResource['action'];
      const writes = c.desired ? { writes: c.desired.sha256 } : {};
      if (!now) return { address: c.address, action, existed: false, ...writes };
      return {
        address: c.address,
        action,
        existed: true,
        xml: now.xml,
        ...(now.etag ? { etag: now.etag } : {}),
        ...(now.description !== undefined ? { description: now.description } : {}),
        ...writes,
      };
    }),
    ...(before ? { identity: before } : {}),
    ...(deletes.length ? { roleAssignments: deletes.map((c) => c.roleAssignment!) } : {}),
  });
  const snapshot = file.data;
  result.snapshotFile = options.snapshotFile;
  options.onEvent?.({ type: 'snapshot', file: options.snapshotFile });

  // 4. Write, step by step; each write records how to take it back.
  const done: Done[] = [];
  /** Policy writes that did not end in a confirmed write: whether they landed is not known. */
  const unsure: Change[] = [];
  const stop = async (error: string): Promise<false> => {
    result.ok = false;
    if (signal?.aborted) {
      result.interrupted = reasonOf(signal);
      result.error = `interrupted (${result.interrupted}) before the apply finished; no write was started after that${error ? ` (${error})` : ''}`;
    } else result.error = error;
    options.onEvent?.({ type: 'restoring' });
    result.restored = [...(await restore(done, options)), ...(await unsureLeft(unsure, snapshot, writer, options))];
    result.applied = done.map((d) => d.change);
    return false;
  };
  const step = async (changes: Change[], one: (c: Change) => Promise<Done | undefined>): Promise<boolean> => {
    const outcomes = await Promise.allSettled(
      changes.map(async (c) => {
        if (signal?.aborted) throw new NotStarted();
        options.onEvent?.({ type: 'write', change: c });
        let d: Done | undefined;
        try {
          d = await one(c);
        } catch (e) {
          if (isContent(c) && !(e instanceof PreconditionFailed)) unsure.push(c);
          throw e;
        }
        if (d) {
          done.push(d);
          if (d.record) await file.update(d.record);
          options.onEvent?.({ type: 'written', change: d.change });
        }
      }),
    );
    const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected' && !(o.reason instanceof NotStarted) && !(signal?.aborted && isHalted(o.reason)));
    if (!failure && !signal?.aborted) return true;
    return stop(failure ? ((failure.reason as Error)?.message ?? String(failure.reason)) : '');
  };

  let systemPrincipalId: string | undefined;
  if (addsIdentity) {
    const ok = await step([identityChange!], async (c) => {
      const after = await ids!.setIdentity(widened!, before!);
      systemPrincipalId = after.systemPrincipalId;
      return { change: c, undo: async () => (await ids!.setIdentity(before!, widened!), 'identity set back as it was'), record: (s) => (s.identityAfter = widened!) };
    });
    if (!ok) return result;
  }
  const createsOk = await step(creates, async (c) => {
    const a = c.roleAssignment!;
    if (alreadyThere.has(c)) return undefined;
    const principalId = a.principalId ?? (lower(a.identity) === 'system' ? (systemPrincipalId ?? (await ids!.readIdentity()).systemPrincipalId) : undefined);
    // The read above took a while: no write starts once the apply is interrupted.
    if (signal?.aborted) throw new NotStarted();
    if (!principalId) throw new Error(`${c.address}: the principal of ${a.identity} is still unknown after the identity was set`);
    const name = a.name ?? roleAssignmentName(a.scope, principalId, a.roleDefinitionGuid);
    const resolved: RoleAssignment & { name: string; principalId: string } = { ...a, name, principalId };
    await ids!.createAssignment(resolved);
    return {
      change: { ...c, address: roleAssignmentAddress(name), roleAssignment: resolved },
      undo: async () => (await ids!.deleteAssignment(a.scope, name), 'deleted again (it did not exist before)'),
      record: (s) => (s.roleAssignmentsCreated ??= []).push(resolved),
    };
  });
  if (!createsOk) return result;

  // A role assignment or identity this run added takes minutes to reach Key Vault: a Key Vault named value written now may be refused, and is written again after a wait.
  const granted = addsIdentity || creates.some((c) => !alreadyThere.has(c));
  for (const level of levels(policies)) {
    const ok = await step(level, async (change) => {
      const now = nowOf.get(change);
      const write = () => writePolicy(change, writer, { now, env, hasher });
      const w =
        granted && writesKeyVaultValue(change)
          ? await writeWaitingForKeyVault(write, {
              budget: rbacWait,
              ...(signal ? { signal } : {}),
              onWait: (seconds, waited) => options.onEvent?.({ type: 'waiting', change, seconds, waited, budget: rbacWait }),
            })
          : await write();
      const entry = snapshot.resources.find((r) => r.address === change.address)!;
      return {
        change,
        undo: () => restorePolicy(w, entry, writer, options, now?.secret),
        ...(w.proven ? { record: () => (entry.after = change.action === 'delete' ? { existed: false } : { existed: true, ...(w.etag ? { etag: w.etag } : {}) }) } : {}),
      };
    });
    if (!ok) return result;
  }
  const deletesOk = await step(deletes, async (c) => {
    const a = c.roleAssignment!;
    await ids!.deleteAssignment(a.scope, a.name!);
    return {
      change: c,
      undo: async () => (await ids!.createAssignment(a as RoleAssignment & { name: string; principalId: string }), 're-created as it was'),
      record: (s) => (s.roleAssignmentsDeleted ??= []).push(a.name!),
    };
  });
  if (!deletesOk) return result;
  if (narrowsIdentity) {
    const ok = await step([identityChange!], async (c) => {
      await ids!.setIdentity(wanted!, widened!);
      return { change: c, undo: async () => (await ids!.setIdentity(widened!, wanted!), 'identity set back as it was'), record: (s) => (s.identityAfter = wanted!) };
    });
    if (!ok) return result;
  }
  // Interrupted after the last write was sent but before the apply was done: that too is put back.
  if (signal?.aborted) {
    await stop('');
    return result;
  }
  // One identity change may have been written in two steps: report it once.
  result.applied = done.map((d) => d.change).filter((c, i, all) => c.resourceType !== 'identity' || all.findIndex((x) => x.resourceType === 'identity') === i);
  return result;
}

/**
 * Writes one policy change with If-Match. `proven`: ARM answered this write itself, so `etag` is
 * the ETag of what this run wrote. A write answered 412 (a retry whose first attempt landed, or
 * another run that wrote first) whose content is live counts as done, but not as proven: live
 * having this run's content does not show that this run put it there.
 */
interface WriteContext {
  /** The resource as read before the first write (the drift checks passed on it). */
  now: LiveCopy | undefined;
  env: Readonly<Record<string, string | undefined>>;
  hasher: SecretHasher | undefined;
}

async function writePolicy(change: Change, writer: LiveWriter, ctx: WriteContext): Promise<{ change: Change; etag?: string; proven: boolean }> {
  const entity = isEntityChange(change);
  // A named value or backend: a list gives no ETag, so the plan has none; the read before the first write has (and passed the checks).
  const liveEtag = entity ? ctx.now?.etag : change.live?.etag;
  try {
    if (change.action === 'delete') {
      await writer.remove(change.address, liveEtag ?? '*');
      return { change, proven: true };
    }
    const ifMatch = change.action === 'update' ? liveEtag : undefined;
    const content = entity ? entityBody(change, ctx.now, ctx.env) : change.desired!.xml;
    const { etag } = await writer.put(change.address, content, {
      ...(ifMatch ? { ifMatch } : {}),
      ...(change.desired!.description !== undefined ? { description: change.desired!.description } : {}),
    });
    return { change, ...(etag ? { etag } : {}), proven: true };
  } catch (e) {
    if (e instanceof PreconditionFailed) {
      const now = await writer.read(change.address);
      const landed = entity ? entityLanded(change, now, ctx.env, ctx.hasher!) : change.action === 'delete' ? !now : !!now && canonicalHash(change.address, now.xml) === change.desired!.sha256;
      if (landed) return { change, proven: false };
      throw new Error(`${change.address} was changed live while this run applied the plan (412 Precondition Failed); the change made there is kept`, { cause: e });
    }
    throw e;
  }
}

/** Puts one policy back as the snapshot has it, only when live is still provably this run's write. */
async function restorePolicy(w: { change: Change; etag?: string; proven: boolean }, before: SnapshotResource, writer: LiveWriter, options: ApplyOptions, secret?: string): Promise<string> {
  const { change, etag } = w;
  const kept = `it is left as it is; its earlier content is in ${options.snapshotFile}`;
  // A named value or backend goes back as it was read (a secret's value from memory, never from the file).
  let content = before.xml;
  if (before.existed && isEntityChange(change)) {
    const body = entityRestoreBody(change.address, before.xml!, secret);
    if ('refuse' in body) throw new Error(`${body.refuse}; ${kept}`);
    content = body.body;
  }
  if (!w.proven) {
    throw new Error(`live has this run's content, but ARM never confirmed a write of this run to it (its write met 412: another run may have written the same content), so ${kept}`);
  }
  try {
    if (change.action === 'delete') {
      // Nothing to guard a re-create with: it goes back only while nobody has created it again.
      if (await writer.read(change.address)) throw new Error(`it was created again by someone else after this run deleted it; ${kept}`);
      await writer.put(change.address, content!, { ...(before.description !== undefined ? { description: before.description } : {}) });
      return 're-created as it was';
    }
    if (!etag) throw new Error(`ARM returned no ETag for this run's write, so nothing shows live is still that write; ${kept}`);
    if (before.existed) {
      await writer.put(change.address, content!, { ifMatch: etag, ...(before.description !== undefined ? { description: before.description } : {}) });
      return 'put back as it was';
    }
    await writer.remove(change.address, etag);
    return 'deleted again (it did not exist before)';
  } catch (e) {
    if (e instanceof PreconditionFailed) throw new Error(`it was changed by someone else after this run wrote it; its earlier content is in ${options.snapshotFile}`, { cause: e });
    const message = (e as Error)?.message ?? String(e);
    throw new Error(message.includes(options.snapshotFile) ? message : `${message}; its earlier content is in ${options.snapshotFile}`, { cause: e });
  }
}

/**
 * Writes that ended without ARM's answer (a reset, a retry stopped by the interruption): whether
 * they landed is unknown. Those whose resource is no longer as the snapshot has it are reported,
 * not restored: this run cannot prove the change there is its own.
 */
async function unsureLeft(unsure: Change[], snapshot: Snapshot, writer: LiveWriter, options: ApplyOptions): Promise<RestoreReport[]> {
  const reports: RestoreReport[] = [];
  for (const change of unsure) {
    const before = snapshot.resources.find((r) => r.address === change.address);
    if (!before) continue;
    const now = await writer.read(change.address).catch(() => undefined);
    const same = before.existed ? !!now && bareEtag(now.etag) === bareEtag(before.etag) : !now;
    if (same) continue;
    const report: RestoreReport = {
      address: change.address,
      ok: false,
      message: `NOT restored: it changed live, but its write got no answer from ARM, so this run cannot prove the change is its own; its earlier content is in ${options.snapshotFile} (apim-policy restore --snapshot … --force puts it back)`,
    };
    reports.push(report);
    options.onEvent?.({ type: 'restore', ...report });
  }
  return reports;
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
