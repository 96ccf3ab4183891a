/**
 * Azure RBAC takes minutes to reach Key Vault: a Key Vault-backed named value written right after
 * the role assignment (or the identity) that lets APIM read it is refused — ARM accepts the write
 * and its operation then ends Failed (Terraform azurerm issue 19255: "APIM named value creation
 * fails for Key Vault value on the first run"). When this apply granted access, such a write is
 * made again after a wait (10 s, 20 s, 40 s, then every 60 s), for at most
 * `APIM_POLICY_RBAC_WAIT_SECONDS` (default 600: a role assignment usually takes effect within minutes, though Microsoft documents up to
 * 30 minutes for ARM's caches).
 * Any other failure, or one when this apply granted nothing, fails at once.
 */
import type { Change } from '../model/index.js';
import { OperationFailed } from '../model/live-errors.js';

export const RBAC_WAIT_VARIABLE = 'APIM_POLICY_RBAC_WAIT_SECONDS';
export const DEFAULT_RBAC_WAIT_SECONDS = 600;

/** The wait budget in seconds from the environment, or why the value is not one. */
export function rbacWaitSeconds(env: Readonly<Record<string, string | undefined>>): number | { error: string } {
  const raw = env[RBAC_WAIT_VARIABLE];
  if (raw === undefined || raw.trim() === '') return DEFAULT_RBAC_WAIT_SECONDS;
  if (!/^\d+$/.test(raw.trim()) || Number(raw) > 3600) {
    return {
      error: `${RBAC_WAIT_VARIABLE} is "${raw}": give the most seconds apply may wait for a role assignment to reach Key Vault, a whole number from 0 to 3600 (default ${DEFAULT_RBAC_WAIT_SECONDS})`,
    };
  }
  return Number(raw);
}

/** Whether a change writes a Key Vault-backed named value (its secret is read when it is stored). */
export function writesKeyVaultValue(c: Change): boolean {
  if (c.resourceType !== 'namedValue' || !c.desired || c.action === 'delete') return false;
  try {
    const kv = (JSON.parse(c.desired.xml) as { keyVault?: unknown }).keyVault;
    return typeof kv === 'object' && kv !== null;
  } catch {
    return false;
  }
}

/** The waits before each new try: 10, 20, 40, then 60 seconds, the last cut to what is left of `budget`. */
export function* waits(budget: number): Generator<number> {
  let waited = 0;
  let next = 10;
  while (waited < budget) {
    const s = Math.min(next, budget - waited);
    waited += s;
    yield s;
    next = Math.min(next * 2, 60);
  }
}

const sleep = (seconds: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, seconds * 1000);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

/**
 * Runs `write`; while it fails with `OperationFailed` (the write accepted, its operation Failed:
 * nothing stored), waits and runs it again, until `budget` seconds are spent or `signal` fires.
 * The last failure is thrown, saying how long apply waited and what to do.
 */
export async function writeWaitingForKeyVault<T>(
  write: () => Promise<T>,
  options: { budget: number; signal?: AbortSignal; onWait: (seconds: number, waited: number) => void; sleep?: (seconds: number, signal?: AbortSignal) => Promise<void> },
): Promise<T> {
  const plan = waits(options.budget);
  let waited = 0;
  for (;;) {
    try {
      return await write();
    } catch (e) {
      if (!(e instanceof OperationFailed)) throw e;
      const next = plan.next();
      if (next.done || options.signal?.aborted) {
        throw new OperationFailed(
          `${e.message} — Key Vault still refused after ${waited} s of waiting for the access this apply granted to take effect; Azure RBAC can take minutes (Microsoft documents up to 30). ` +
            `Apply again, or let apply wait longer with ${RBAC_WAIT_VARIABLE} (now ${options.budget}).`,
          { cause: e },
        );
      }
      options.onWait(next.value, waited);
      await (options.sleep ?? sleep)(next.value, options.signal);
      waited += next.value;
      if (options.signal?.aborted) throw e;
    }
  }
}
