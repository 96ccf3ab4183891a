/**
 * The policies and fragments of a plan: desired against live on canonical forms, and the diff a
 * reviewer reads (apply derives it again before it writes).
 */
import { createHash } from 'node:crypto';
import { rankOf } from '../model/kinds.js';
import type { Change, PolicyResource, State } from '../model/index.js';
import { canonicalize, diffCanonical, parsePolicyDocument } from '../policy-xml/index.js';

/** One side of a plan: a state and, when the loader already made them, its canonical forms by key. */
export interface PlanSide {
  state: State;
  canonical?: Map<string, string>;
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
 * Compares desired with live, policy by policy, on canonical forms: formatting APIM applies on
 * storage is never a change. The result lists every policy and fragment of either side in apply order.
 */
export function comparePolicies(desired: PlanSide, live: PlanSide): Change[] {
  const keys = new Set([...desired.state.resources.keys(), ...live.state.resources.keys()]);
  const entries: Array<{ change: Change }> = [];
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
    entries.push({ change });
  }
  return sortChanges(entries.map((e) => e.change));
}

/** Changes in apply order: by kind rank (named values, backends, fragments, global … operation), deletes after all in reverse rank; then by address. */
export function sortChanges(changes: Change[]): Change[] {
  const entries = changes.map((change) => ({ change, sort: orderKey(change) }));
  entries.sort((a, b) => {
    for (let i = 0; i < 3; i++) {
      const x = a.sort[i]!;
      const y = b.sort[i]!;
      if (x < y) return -1;
      if (x > y) return 1;
    }
    return 0;
  });
  return entries.map((e) => e.change);
}
