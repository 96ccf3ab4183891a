/** A fresh, empty emulator state (the server creates one at start; tests one per case). */
import type { EmulatorIdentity, EmulatorState } from './types.js';

/**
 * `nextEtag()` returns an unquoted token that looks like APIM's (`AAAAAAAAAAE=`) and differs on
 * every call; handlers quote it when they store it as an ETag.
 */
export function createEmulatorState(target: EmulatorIdentity): EmulatorState {
  let counter = 0;
  return {
    target,
    resources: new Map(),
    faults: { principalNotFound: 0, rawxmlBare: false, fragmentLroFail: 0 },
    operations: new Map(),
    nextEtag(): string {
      counter += 1;
      const bytes = Buffer.alloc(8);
      bytes.writeBigUInt64BE(BigInt(counter));
      return bytes.toString('base64');
    },
  };
}
