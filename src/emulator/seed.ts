/**
 * The live state starts as a `LiveSeed` describes (built by the CLI from a tree; see
 * src/model/seed.ts). The workspaces, APIs, operations and products it declares are stored first
 * (`workspaces/{w}`, `apis/{a}`, `apis/{a}/operations/{o}`, `products/{p}` with value
 * `{displayName}`), then every policy as a PUT would store it (APIM-serialised, a fresh ETag each):
 * a policy whose parent the seed does not declare is refused, as ARM would refuse its PUT. Named
 * values and backends are stored with their properties, so reference checks have something to find;
 * the identity and its role assignments as given.
 */
import type { LiveSeed } from '../model/seed.js';
import { addressKey } from '../model/address.js';
import { seedIdentity } from './arm-rbac.js';
import { missingParent, parentsOf, storeEntity } from './arm-entities.js';
import { storePolicy } from './arm-policies.js';
import type { EmulatorState } from './types.js';

/** Stores `seed` in `state`; returns the number of policies stored. Throws on a policy ARM would refuse. */
export function seedState(state: EmulatorState, seed: LiveSeed): { policies: number } {
  const declared = [...seed.workspaces, ...seed.apis, ...seed.products, ...seed.operations].sort((a, b) => a.address.split('/').length - b.address.split('/').length);
  for (const e of declared) {
    const missing = parentsOf(`${e.address}/policies/policy`).find((p) => addressKey(p) !== addressKey(e.address) && !state.resources.has(addressKey(p)));
    if (missing) throw new Error(`cannot seed ${e.address}: its parent ${missing} is not declared`);
    storeEntity(state, e.address, e.displayName);
  }
  let policies = 0;
  const sorted = [...seed.policies].sort((a, b) => (a.address < b.address ? -1 : 1));
  for (const p of sorted) {
    const missing = missingParent(state, p.address);
    if (missing) throw new Error(`cannot seed ${p.address}: ${missing} does not exist (ARM answers 404 to a policy under a missing parent); declare it in the seed`);
    storePolicy(state, p.address, p.xml, p.description);
    policies += 1;
  }
  for (const [collection, list] of [
    ['namedValues', seed.namedValues],
    ['backends', seed.backends],
  ] as const) {
    for (const { name, properties } of list) {
      const address = `${collection}/${name}`;
      state.resources.set(addressKey(address), { address, value: properties, etag: `"${state.nextEtag()}"` });
    }
  }
  if (seed.identity) seedIdentity(state, seed.identity);
  return { policies };
}
