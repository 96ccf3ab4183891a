import { createHash } from 'node:crypto';
import { rankOf } from '../model/kinds.js';
import type { Change, Diagnostic, Plan, PolicyResource, State } from '../model/index.js';
import { PLAN_FORMAT_VERSION } from '../model/index.js';
import { canonicalize, diffCanonical, parsePolicyDocument } from '../policy-xml/index.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';
import { sealPlan } from './integrity.js';

/** One side of a plan: a state and, when the loader already made them, its canonical forms by key. */
export interface PlanSide {
  state: State;
  canonical?: Map<string, string>;
}

export interface PlanOptions {
  source: Plan['source'];
  commit?: string;
  problems?: Diagnostic[];
  /** For reproducible output in tests; defaults to now. */
  now?: Date;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function canonicalOf(side: PlanSide, key: string, resource: PolicyResource): string {
  const known = side.canonical?.get(key);
  if (known !== undefined) return known;
  const doc = parsePolicyDocument(resource.xml, {
    file: resource.file ?? resource.address,
    expect: resource.scope.kind === 'fragment' ? 'fragment' : 'policies',
  });
  return canonicalize(doc);
}

/**
 * The diff a reviewer reads for one policy: of the canonical forms, and a line for a changed
 * fragment description. Apply derives it again from what is live and what the plan writes, and
 * refuses a plan whose diff is not this one.
 */
export function policyDiff(
  address: string,
  before: string,
  after: string,
  descriptions: { live?: string; desired?: string; both: boolean },
): { patch: string; added: number; removed: number; replaced?: { before: number; after: number }; descriptionChanged: boolean } {
  const descriptionChanged = descriptions.both && descriptions.desired !== undefined && descriptions.desired !== (descriptions.live ?? '');
  let { patch, added, removed, replaced } = diffCanonical(before, after, `live/${address}`, `desired/${address}`);
  if (descriptionChanged) patch += `description: ${JSON.stringify(descriptions.live ?? '')} → ${JSON.stringify(descriptions.desired)}\n`;
  return { patch, added, removed, ...(replaced ? { replaced } : {}), descriptionChanged };
}

function orderKey(change: Change): [number, number, string] {
  const del = change.action === 'delete' ? 1 : 0;
  const rank = rankOf(change.resourceType);
  // Deletes run after everything else and in reverse apply rank (operations before fragments).
  return [del, del ? -rank : rank, change.address.toLowerCase()];
}

/**
 * Compares desired with live, resource by resource, on canonical forms: formatting APIM applies
 * on storage is never a change. The result lists every resource in apply order.
 */
export function computePlan(desired: PlanSide, live: PlanSide, options: PlanOptions): Plan {
  const keys = new Set([...desired.state.resources.keys(), ...live.state.resources.keys()]);
  const entries: Array<{ change: Change; sort: [number, number, string] }> = [];
  for (const key of keys) {
    const want = desired.state.resources.get(key);
    const have = live.state.resources.get(key);
    const resource = (want ?? have)!;
    const after = want ? canonicalOf(desired, key, want) : '';
    const before = have ? canonicalOf(live, key, have) : '';
    const descriptions = { both: !!want && !!have, ...(have?.description !== undefined ? { live: have.description } : {}), ...(want?.description !== undefined ? { desired: want.description } : {}) };
    const descriptionChanged = descriptions.both && want!.description !== undefined && want!.description !== (have!.description ?? '');
    let action: Change['action'];
    if (want && !have) action = 'create';
    else if (!want && have) action = 'delete';
    else action = after === before && !descriptionChanged ? 'noop' : 'update';

    const change: Change = { address: resource.address, action, resourceType: resource.scope.kind };
    if (want?.file) change.file = want.file;
    if (action !== 'noop') {
      const { patch, added, removed, replaced } = policyDiff(resource.address, before, after, descriptions);
      change.diff = patch;
      change.added = added;
      change.removed = removed;
      if (replaced) change.replaced = replaced;
    }
    if (want && action !== 'noop') {
      change.desired = { xml: want.xml, sha256: sha256(after) };
      if (want.description !== undefined) change.desired.description = want.description;
    }
    if (have) {
      change.live = { sha256: sha256(before) };
      if (have.etag !== undefined) change.live.etag = have.etag;
    }
    entries.push({ change, sort: orderKey(change) });
  }
  entries.sort((a, b) => {
    for (let i = 0; i < 3; i++) {
      const x = a.sort[i]!;
      const y = b.sort[i]!;
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return 0;
  });
  const changes = entries.map((e) => e.change);
  const count = (action: Change['action']) => changes.filter((c) => c.action === action).length;
  const plan: Plan = {
    formatVersion: PLAN_FORMAT_VERSION,
    tool: { name: TOOL_NAME, version: TOOL_VERSION },
    createdAt: (options.now ?? new Date()).toISOString(),
    source: options.source,
    summary: { create: count('create'), update: count('update'), delete: count('delete'), unchanged: count('noop') },
    changes,
    problems: options.problems ?? [],
  };
  if (options.commit) plan.commit = options.commit;
  return sealPlan(plan);
}

/** Counts the changes again after a plan was changed (identity changes added, deletes dropped). */
export function recount(plan: Plan): void {
  const count = (action: Change['action']) => plan.changes.filter((c) => c.action === action).length;
  plan.summary = { create: count('create'), update: count('update'), delete: count('delete'), unchanged: count('noop') };
}

/** The error-severity problems: each stops the plan (exit 1, a failed check) and apply refuses it. */
export function blockingProblems(plan: Plan): Diagnostic[] {
  return plan.problems.filter((p) => p.severity === 'error');
}

export function hasChanges(plan: Plan): boolean {
  return plan.summary.create + plan.summary.update + plan.summary.delete > 0;
}
