/**
 * The writes of one apply, stoppable: once `signal` fires (SIGINT/SIGTERM), no write the apply had
 * started goes out any more — not one queued in the scheduler, waiting for ARM's write budget, or
 * waiting to be retried. Requests already sent settle as usual, and writes made after the signal
 * (the restore) go out normally.
 */
import type { IdentityWriter, LiveWriter } from '../model/index.js';
import type { ArmSession } from './apim.js';

export function stoppableWriters(session: ArmSession, writer: LiveWriter, identities: IdentityWriter, signal: AbortSignal): { writer: LiveWriter; identities: IdentityWriter; release: () => void } {
  const { scheduler } = session;
  const halt = () => scheduler.haltWrites();
  if (signal.aborted) halt();
  else signal.addEventListener('abort', halt, { once: true });
  const gated = <T>(fn: () => Promise<T>) => scheduler.gateWrites(fn);
  return {
    /** The apply is restoring: a signal from now on must not stop the restore's writes. */
    release: () => signal.removeEventListener('abort', halt),
    writer: {
      read: (address) => writer.read(address),
      put: (address, xml, options) => gated(() => writer.put(address, xml, options)),
      remove: (address, ifMatch) => gated(() => writer.remove(address, ifMatch)),
    },
    identities: {
      readIdentity: () => identities.readIdentity(),
      setIdentity: (shape, previous) => gated(() => identities.setIdentity(shape, previous)),
      readAssignment: (scope, name) => identities.readAssignment(scope, name),
      createAssignment: (assignment) => gated(() => identities.createAssignment(assignment)),
      deleteAssignment: (scope, name) => gated(() => identities.deleteAssignment(scope, name)),
    },
  };
}
