/**
 * What a run logged in to one APIM instance holds: the target, the ARM session (one scheduler),
 * the policy and identity stores (the `LiveWriter`s), and the instance as plans name it.
 */
import type { AzureSource } from '../model/index.js';
import type { LiveReader } from '../model/live.js';
import type { ArmPolicyStore, ArmSession } from './apim.js';
import type { ArmIdentityStore } from './identity.js';
import { ArmLiveReader } from './live-reader.js';
import type { AzureTarget } from './target.js';

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
