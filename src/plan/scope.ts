/**
 * What a PR-scoped plan reads and plans: the resources whose desired content differs between the
 * base tree and the head tree, the fragments they include (for the reference checks), and the
 * identity only when identity.yaml differs.
 */
import type { IdentityManifest } from '../model/identity.js';
import { addressKey, fragmentAddress } from '../model/address.js';
import type { Address } from '../model/index.js';
import { includedFragments } from '../policy-xml/index.js';
import type { PlanDesired } from './compute.js';

/** The resources whose content differs between two trees, and the fragments they include. */
export function changedBetween(base: PlanDesired, head: PlanDesired): { changed: Address[]; fragments: Address[] } {
  const changed: Address[] = [];
  for (const key of new Set([...base.state.resources.keys(), ...head.state.resources.keys()])) {
    const b = base.state.resources.get(key);
    const h = head.state.resources.get(key);
    if (!b || !h || base.canonical?.get(key) !== head.canonical?.get(key) || (b.description ?? '') !== (h.description ?? '')) changed.push((h ?? b)!.address);
  }
  const fragments = new Set<string>();
  for (const address of changed) {
    const doc = head.documents?.get(addressKey(address));
    const ws = head.state.resources.get(addressKey(address))?.scope.workspace;
    if (doc) for (const { fragmentId } of includedFragments(doc.root)) fragments.add(fragmentAddress(fragmentId, ws));
  }
  return { changed, fragments: [...fragments].filter((f) => !changed.some((c) => addressKey(c) === addressKey(f))) };
}

/** The manifest without positions: two trees want the same identity when these are equal. */
const manifestKey = (m: IdentityManifest | undefined) => JSON.stringify(m ?? null, (k, v) => (k === 'at' || k === 'identityLine' || k === 'file' ? undefined : v));

/** Whether identity.yaml differs between the trees (positions aside). */
export function identityChanged(base: PlanDesired, head: PlanDesired): boolean {
  return manifestKey(head.identity) !== manifestKey(base.identity);
}
