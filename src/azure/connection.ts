/**
 * What a run logged in to one APIM instance holds: the target, the ARM session (one scheduler),
 * the policy and identity stores (the `LiveWriter`s), and the instance as plans name it.
 */
import type { IdTokenSource } from '../model/ci-host.js';
import type { AzureSource } from '../model/index.js';
import type { LiveReader } from '../model/live.js';
import { ArmPolicyStore, createArmSession, type ArmSession } from './apim.js';
import { checkOidcAvailable, createCredential, prefetchToken } from './credential.js';
import { ArmIdentityStore } from './identity.js';
import { ArmLiveReader } from './live-reader.js';
import { armTokenScope, resolveTarget, serviceResourceId, targetFingerprint, type AzureTarget, type TargetSettings } from './target.js';

export interface LiveConnection {
  target: AzureTarget;
  session: ArmSession;
  store: ArmPolicyStore;
  identities: ArmIdentityStore;
  source: AzureSource;
}

/** The `LiveReader` of a connection. */
export function liveReaderOf(conn: LiveConnection): LiveReader {
  return new ArmLiveReader(conn.session, conn.store, conn.identities);
}

/**
 * Settles target and auth and makes the session; fails early when the settings cannot work.
 * `onProgress` hears of every ARM call (done, total); `idToken` is the CI host's OIDC ID token,
 * the assertion of an `oidc` login.
 */
export async function connect(words: TargetSettings, onProgress?: (done: number, total: number) => void, idToken?: IdTokenSource): Promise<LiveConnection> {
  const { target, auth } = resolveTarget(words);
  checkOidcAvailable(auth, idToken);
  const credential = createCredential(auth, (audience) => idToken!.get(audience));
  // The token for the first ARM call is on its way (GitHub ID token, then Entra) while the SDKs load.
  await prefetchToken(credential, armTokenScope(target.armEndpoint));
  const session = await createArmSession(target, credential, onProgress ? { onProgress } : {});
  const source: AzureSource = { kind: 'azure', serviceId: serviceResourceId(target), armEndpoint: target.armEndpoint, fingerprint: targetFingerprint(target) };
  return { target, session, store: new ArmPolicyStore(session), identities: new ArmIdentityStore(session), source };
}
