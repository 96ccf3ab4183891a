/**
 * The live state starts as a `LiveSeed` describes (built by the CLI from a tree; see
 * src/model/seed.ts). The workspaces, APIs, operations and products it declares are stored first
 * (`workspaces/{w}`, `apis/{a}`, `apis/{a}/operations/{o}`, `products/{p}` with value
 * `{displayName}`), then every policy as a PUT would store it (APIM-serialised, a fresh ETag each):
 * a policy whose parent the seed does not declare is refused, as ARM would refuse its PUT. The
 * identity and its role assignments as given; then named values and backends, checked as their PUT
 * would check them (a named value's displayName defaults to its name, and a secret may come without
 * its value, as APIOps extracts have it; `{"secret": true, "value": "…"}` keeps the value for
 * listValue), so reference checks have something to find.
 */
import type { LiveSeed } from '../model/seed.js';
import { addressKey } from '../model/address.js';
import { seedIdentity } from './arm-rbac.js';
import { missingParent, parentsOf, storeEntity } from './arm-entities.js';
import { storePolicy } from './arm-policies.js';
import { checkBackend, storeBackend } from './arm-backends.js';
import { checkNamedValue, storeNamedValue } from './arm-named-values.js';
import type { EmulatorResponse, EmulatorState } from './types.js';

/** The message of an ARM error answer (its first detail's, when it has one). */
function armMessage(r: EmulatorResponse): string {
  const e = (r.body as { error?: { message?: string; details?: Array<{ message?: string }> } } | undefined)?.error;
  return e?.details?.[0]?.message ?? e?.message ?? `HTTP ${r.status}`;
}

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
  // The identity first: a Key Vault named value is read (and its lastStatus set) when it is stored.
  if (seed.identity) seedIdentity(state, seed.identity);
  for (const { name, properties } of seed.namedValues) {
    const checked = checkNamedValue({ displayName: name, ...properties }, false);
    if ('status' in checked) throw new Error(`cannot seed named value '${name}' (named values/${name}/namedValueInformation.json): ${armMessage(checked)}`);
    storeNamedValue(state, `namedValues/${name}`, checked);
  }
  for (const { name, properties } of seed.backends) {
    const checked = checkBackend(properties);
    if ('error' in checked) throw new Error(`cannot seed backend '${name}' (backends/${name}/backendInformation.json): ${armMessage(checked.error as EmulatorResponse)}`);
    storeBackend(state, `backends/${name}`, checked);
  }
  return { policies };
}
