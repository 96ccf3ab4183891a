/**
 * Plan and apply against a live instance, the steps the CLI and the action share: read the live
 * side through the `LiveReader` (only what the desired side needs), compute the whole plan once,
 * or apply a plan with the connection's writers.
 */
import { liveReaderOf, type LiveConnection } from '../azure/connection.js';
import { stoppableWriters } from '../azure/write-gate.js';
import { policiesRootOf } from '../desired/root-guess.js';
import type { Plan } from '../model/index.js';
import type { Guardrails, LiveRequest } from '../model/live.js';
import { applyPlan, type ApplyEvent, type ApplyResult } from '../plan/apply.js';
import { computePlan, type PlanDesired, type PlanSettings } from '../plan/compute.js';
import { identityQueryOf } from '../plan/identity.js';
import { entityWorkspaces, secretsToRead } from '../plan/entities.js';
import { changedBetween, identityChanged } from '../plan/scope.js';

export type { LiveConnection } from '../azure/connection.js';
export { changedBetween } from '../plan/scope.js';

/** Guardrails when the workflow sets none: no privileged roles, only the instance's subscription. */
export function defaultGuardrails(conn: LiveConnection, words: { allowPrivilegedRoles?: boolean; allowedScopes?: string[] } = {}): Guardrails {
  const scopes = (words.allowedScopes ?? []).map((s) => s.trim()).filter(Boolean);
  return { allowPrivilegedRoles: words.allowPrivilegedRoles === true, allowedScopes: scopes.length ? scopes : [`/subscriptions/${conn.target.subscriptionId}`] };
}

export interface PlanLiveOptions {
  commit?: string;
  guardrails?: Guardrails;
  /** The policies folder as the user named it, for the problem a tree with nothing to deploy gets. */
  policiesPath?: string;
}

function settingsOf(conn: LiveConnection, desired: PlanDesired, options: PlanLiveOptions): PlanSettings {
  return {
    source: conn.source,
    ...(options.commit ? { commit: options.commit } : {}),
    guardrails: options.guardrails ?? defaultGuardrails(conn),
    policiesRoot: policiesRootOf(options.policiesPath ?? 'the policies tree', desired.state.resources.size),
  };
}

/**
 * Plans the desired tree against the live instance: every policy, the reference checks and, with
 * an identity.yaml, the identity and its role assignments.
 */
export async function planLive(conn: LiveConnection, desired: PlanDesired, options: PlanLiveOptions = {}): Promise<Plan> {
  const wanted = [...desired.state.resources.values()].filter((r) => r.type === 'policy').map((r) => r.address);
  const allowedScopes = (options.guardrails ?? defaultGuardrails(conn)).allowedScopes;
  const request: LiveRequest = {
    desired: wanted,
    entities: { secrets: secretsToRead(desired.entities), workspaces: entityWorkspaces(desired.entities) },
    ...(desired.identity ? { identity: { ...identityQueryOf(desired.identity), allowedScopes } } : {}),
  };
  const live = await liveReaderOf(conn).read(request);
  return computePlan(desired, live, settingsOf(conn, desired, options));
}

/**
 * A plan scoped to a pull request: only the resources whose desired content differs between the
 * base tree and the head tree are read and planned (plus the fragments they include, for the
 * reference checks), and the identity only when identity.yaml differs. For instances where a full
 * read takes minutes; the plan says it is scoped, since drift elsewhere is not looked for.
 */
export async function planScoped(conn: LiveConnection, desired: PlanDesired, base: PlanDesired, options: PlanLiveOptions & { baseLabel?: string } = {}): Promise<Plan> {
  const { changed, fragments } = changedBetween(base, desired);
  const addresses = [...changed, ...fragments];
  const { identity: manifest, ...policies } = desired;
  const withIdentity = identityChanged(base, desired) && manifest !== undefined;
  const allowedScopes = (options.guardrails ?? defaultGuardrails(conn)).allowedScopes;
  const live = await liveReaderOf(conn).read({
    addresses,
    referenced: fragments,
    entities: { secrets: secretsToRead(desired.entities), workspaces: entityWorkspaces(desired.entities) },
    ...(withIdentity ? { identity: { ...identityQueryOf(manifest), allowedScopes } } : {}),
  });
  return computePlan(withIdentity ? desired : policies, live, {
    ...settingsOf(conn, desired, options),
    scope: { addresses: changed, base: options.baseLabel ?? 'the base tree', read: addresses.length, identity: withIdentity },
  });
}

export interface LiveApplyOptions {
  allowDeletes: boolean;
  /** Most deletes one apply makes (default DEFAULT_MAX_DELETES); -1 for no limit. */
  maxDeletes?: number;
  allowDestructiveIdentityChanges?: boolean;
  guardrails?: Guardrails;
  snapshotFile: string;
  onEvent?: (event: ApplyEvent) => void;
  /** SIGINT/SIGTERM: no write of this apply goes out after it fires (not even one queued in the scheduler). */
  signal?: AbortSignal;
}

export function applyLive(conn: LiveConnection, plan: Plan, options: LiveApplyOptions): Promise<ApplyResult> {
  const { writer, identities, release } = options.signal
    ? stoppableWriters(conn.session, conn.store, conn.identities, options.signal)
    : { writer: conn.store, identities: conn.identities, release: () => {} };
  return applyPlan(plan, writer, {
    ...options,
    onEvent: (e) => {
      if (e.type === 'restoring') release();
      options.onEvent?.(e);
    },
    guardrails: options.guardrails ?? defaultGuardrails(conn),
    identityWriter: identities,
    targetFingerprint: conn.source.fingerprint,
  });
}
