/**
 * What a change reaches: for a changed fragment, the policies that include it, directly or
 * through other fragments. Pure: built from the resources as they stand after apply (the desired
 * tree, plus live resources the plan keeps), never from ARM.
 *
 * The reference index is keyed by kind, so named values (`{{name}}`) and backends (`backend-id`)
 * can add their rows later; only fragments are indexed now.
 */
import { addressKey, fragmentAddress, parsePolicyAddress } from '../model/address.js';
import { rankOf } from '../model/kinds.js';
import type { Address, Change, PolicyResource } from '../model/index.js';
import { includedFragments, parsePolicyDocument, type PolicyDocument } from '../policy-xml/index.js';

/** The kinds of thing a policy can reference by name. Only `fragment` is indexed for now. */
export type ReferenceKind = 'fragment' | 'namedValue' | 'backend';

/** Who references what: kind → address key of the referenced resource → addresses of the resources that reference it. */
export type ReferenceIndex = Map<ReferenceKind, Map<string, Map<string, Address>>>;

/** The references one document makes, by kind (each the address key of the referenced resource). */
function referencesOf(resource: PolicyResource, doc: PolicyDocument): Array<[ReferenceKind, string]> {
  const workspace = resource.scope.workspace;
  return includedFragments(doc.root).map((inc): [ReferenceKind, string] => ['fragment', addressKey(fragmentAddress(inc.fragmentId, workspace))]);
}

/**
 * The reference index of `resources`. A document is taken from `documents` when it has one (the
 * loaded tree), else parsed from the resource's text; one that does not parse references nothing.
 */
export function buildReferenceIndex(resources: Iterable<PolicyResource>, documents?: { get(key: string): PolicyDocument | undefined }): ReferenceIndex {
  const index: ReferenceIndex = new Map();
  for (const resource of resources) {
    const key = addressKey(resource.address);
    let doc: PolicyDocument | undefined;
    try {
      doc = documents?.get(key) ?? parsePolicyDocument(resource.xml, { file: resource.file ?? resource.address, expect: resource.scope.kind === 'fragment' ? 'fragment' : 'policies' });
    } catch {
      continue;
    }
    for (const [kind, target] of referencesOf(resource, doc)) {
      let byTarget = index.get(kind);
      if (!byTarget) index.set(kind, (byTarget = new Map()));
      let users = byTarget.get(target);
      if (!users) byTarget.set(target, (users = new Map()));
      users.set(key, resource.address);
    }
  }
  return index;
}

/**
 * The policies (not fragments) that run the fragment at `fragment`: those that include it, and
 * those that include a fragment that includes it, at any depth. Cycles end the walk. In apply
 * order (global, product, API, operation), then by address.
 */
export function fragmentImpact(index: ReferenceIndex, fragment: Address, kindOf: (address: Address) => string): Address[] {
  const users = index.get('fragment');
  const seen = new Set<string>([addressKey(fragment)]);
  const queue = [addressKey(fragment)];
  const found = new Map<string, Address>();
  while (queue.length) {
    // shift() before the lookup: `users?.get(queue.shift())` would not shift when there are no users.
    const next = queue.shift()!;
    for (const [key, address] of users?.get(next) ?? []) {
      if (seen.has(key)) continue;
      seen.add(key);
      if (kindOf(address) === 'fragment') queue.push(key);
      else found.set(key, address);
    }
  }
  return [...found.values()].sort((a, b) => rankOf(kindOf(a)) - rankOf(kindOf(b)) || (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
}

/**
 * Sets `impact` on every created, updated or deleted fragment of `changes`: the policies of
 * `after` (the resources as they stand once the plan is applied) that run it.
 */
export function addImpact(changes: Change[], after: Iterable<PolicyResource>, documents?: { get(key: string): PolicyDocument | undefined }): void {
  const fragments = changes.filter((c) => c.resourceType === 'fragment' && c.action !== 'noop');
  if (!fragments.length) return;
  const resources = [...after];
  const kinds = new Map(resources.map((r) => [addressKey(r.address), r.scope.kind as string]));
  const index = buildReferenceIndex(resources, documents);
  const kindOf = (address: Address) => kinds.get(addressKey(address)) ?? parsePolicyAddress(address)?.kind ?? 'operation';
  for (const c of fragments) c.impact = fragmentImpact(index, c.address, kindOf);
}
