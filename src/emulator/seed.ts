/**
 * The live state starts as a `LiveSeed` describes (built by the CLI from a tree; see
 * src/model/seed.ts). The workspaces, APIs, operations and products it declares are stored first
 * (`workspaces/{w}`, `apis/{a}`, `apis/{a}/operations/{o}`, `products/{p}` with value
 * `{displayName}`), then every policy as a PUT would store it (APIM-serialised, a fresh ETag each):
 * a policy whose parent the seed does not declare is refused, as ARM would refuse its PUT. The
 * identity and its role assignments as given; then named values and backends (of the service, and
 * of a declared workspace under `workspaces/{w}/`), checked as their PUT would check them (a named value's displayName defaults to its name, and a secret may come without
 * its value, as APIOps extracts have it; `{"secret": true, "value": "…"}` keeps the value for
 * listValue), so reference checks have something to find.
 */
import type { LiveSeed, LiveSeedApiopsEntity } from '../model/seed.js';
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
  // A workspace's own named values and backends live under it (`workspaces/{w}/namedValues/{id}`).
  const place = (e: LiveSeedApiopsEntity, collection: string, folder: string, file: string) => {
    const ws = e.workspace !== undefined ? `workspaces/${e.workspace}/` : '';
    const where = `${ws}${folder}/${e.name}/${file}`;
    if (ws && !state.resources.has(addressKey(`workspaces/${e.workspace}`))) throw new Error(`cannot seed ${where}: workspace ${e.workspace} is not declared`);
    return { address: `${ws}${collection}/${e.name}`, where };
  };
  for (const e of seed.namedValues) {
    const { address, where } = place(e, 'namedValues', 'named values', 'namedValueInformation.json');
    const checked = checkNamedValue({ displayName: e.name, ...e.properties }, false);
    if ('status' in checked) throw new Error(`cannot seed named value '${e.name}' (${where}): ${armMessage(checked)}`);
    storeNamedValue(state, address, checked);
  }
  for (const e of seed.backends) {
    const { address, where } = place(e, 'backends', 'backends', 'backendInformation.json');
    const checked = checkBackend(e.properties);
    if ('error' in checked) throw new Error(`cannot seed backend '${e.name}' (${where}): ${armMessage(checked.error as EmulatorResponse)}`);
    storeBackend(state, address, checked);
  }
  return { policies };
}
