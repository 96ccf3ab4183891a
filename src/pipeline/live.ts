/**
 * The façade the CLI and the action call today: `connect` (the ARM login and session) and the
 * plan/apply steps, which live in ci/plan-apply.ts (orchestration), azure/ (the LiveReader and
 * writers) and plan/ (computePlan, applyPlan). The lead removes this file once its callers import
 * those modules.
 */
import { checkOidcAvailable, createCredential, prefetchToken } from '../azure/credential.js';
import { ArmPolicyStore, createArmSession } from '../azure/apim.js';
import type { LiveConnection } from '../azure/connection.js';
import { ArmIdentityStore } from '../azure/identity.js';
import { armTokenScope, resolveTarget, serviceResourceId, targetFingerprint, type TargetWords } from '../azure/target.js';
import type { AzureSource } from '../model/index.js';
import type { IdTokenSource } from '../model/ci-host.js';

export { applyLive, changedBetween, defaultGuardrails, planLive, planScoped, type LiveApplyOptions, type PlanLiveOptions } from '../ci/plan-apply.js';
export type { LiveConnection } from '../azure/connection.js';

/**
 * Settles target and auth and makes the session; fails early when the settings cannot work.
 * `onProgress` hears of every ARM call (done, total); `idToken` is the CI host's OIDC ID token,
 * the assertion of an `oidc` login.
 */
export async function connect(words: TargetWords, onProgress?: (done: number, total: number) => void, idToken?: IdTokenSource): Promise<LiveConnection> {
  const { target, auth } = resolveTarget(words);
  checkOidcAvailable(auth, idToken);
  const credential = createCredential(auth, (audience) => idToken!.get(audience));
  // The token for the first ARM call is on its way (GitHub ID token, then Entra) while the SDKs load.
  await prefetchToken(credential, armTokenScope(target.armEndpoint));
  const session = await createArmSession(target, credential, onProgress ? { onProgress } : {});
  const source: AzureSource = { kind: 'azure', serviceId: serviceResourceId(target), armEndpoint: target.armEndpoint, fingerprint: targetFingerprint(target) };
  return { target, session, store: new ArmPolicyStore(session), identities: new ArmIdentityStore(session), source };
}
