/**
 * One ARM session (target, client, scheduler) and the two ways a call goes through it: `armCall`
 * (one scheduled call, its failure explained) and `longRunningWrite` (an accepted write, then its
 * polls, each its own call). Shared by the policy and the named value / backend stores.
 */
import type { ApiManagementClient } from '@azure/arm-apimanagement';
import type { FullOperationResponse } from '@azure/core-client';
import type { TokenCredential } from '@azure/identity';
import { explainArmError } from './arm-errors.js';
import type { ArmCallKind, ArmScheduler } from './scheduler.js';
import type { AzureTarget } from './target.js';

export interface ArmSession {
  target: AzureTarget;
  client: ApiManagementClient;
  scheduler: ArmScheduler;
  credential: TokenCredential;
  /** The continuation token of a page of `client`'s lists (each SDK keeps its own). */
  continuationToken: (page: unknown) => string | undefined;
}

/** Runs one ARM call through the scheduler; a failure comes back explained, naming `what`. */
export function armCall<T>(session: ArmSession, kind: ArmCallKind, what: string, fn: () => Promise<T>): Promise<T> {
  return session.scheduler.run(kind, fn, what).catch((e: unknown) => {
    throw explainArmError(e, what, session.target, kind);
  });
}

/** What an SDK `begin…` call returns, as far as `longRunningWrite` needs it. */
export interface LroPoller {
  poll(): Promise<void>;
  isDone(): boolean;
  toString(): string;
}

/** Interval between the polls of a long-running operation. */
export const LRO_INTERVAL_MS = 1000;

/**
 * A long-running write (fragment PUT, named value PUT). `begin(options)` makes the SDK call with
 * these options added: without `resumeFrom` it sends the write, with it a poller resumed from that
 * state (the write is not sent). `onResponse` hears every answer (the write's, each poll's, the final GET's).
 *
 * Only the accepted write is a write a retry may repeat; once ARM has accepted it, a transient
 * failure of a poll (or of the final GET) polls again — sending the write again would meet the new
 * ETag with the old If-Match (412) although the write was this run's. Each poll is its own call
 * with its own retries, on a poller resumed from the last state that succeeded (a poller that met
 * an error keeps it). The SDK's `begin…` polls once before it returns the poller: when that poll
 * fails after ARM accepted the write, polling resumes from the accepted answer (acceptedState).
 */
export async function longRunningWrite(
  session: ArmSession,
  what: string,
  begin: (options: { resumeFrom?: string; updateIntervalInMs: number; onResponse: (r: FullOperationResponse) => void }) => Promise<LroPoller>,
  onResponse: (r: FullOperationResponse) => void = () => undefined,
): Promise<void> {
  let acceptedAt: string | undefined;
  const first = await armCall(session, 'write', what, async () => {
    try {
      return await begin({
        updateIntervalInMs: LRO_INTERVAL_MS,
        onResponse: (r) => {
          onResponse(r);
          if (r.request.method === 'PUT' && r.status >= 200 && r.status < 300) acceptedAt = acceptedState(r);
        },
      });
    } catch (e) {
      // Accepted, then the SDK's first poll failed: the write is done; its operation is polled below.
      if (acceptedAt !== undefined) return undefined;
      throw e;
    }
  });
  let state = first ? first.toString() : acceptedAt!;
  let done = first ? first.isDone() : false;
  while (!done) {
    await new Promise((r) => setTimeout(r, LRO_INTERVAL_MS));
    done = await armCall(session, 'read', what, async () => {
      const poller = await begin({ resumeFrom: state, updateIntervalInMs: LRO_INTERVAL_MS, onResponse });
      await poller.poll();
      state = poller.toString();
      return poller.isDone();
    });
  }
}

/**
 * The state a poller resumes from, made from ARM's answer accepting a PUT as `@azure/core-lro`
 * (2.x, `inferLroMode`) makes it: polled at Operation-Location / Azure-AsyncOperation with the
 * resource read at the PUT's URL at the end, else at Location, else at the PUT's URL.
 */
function acceptedState(r: FullOperationResponse): string {
  const url = r.request.url.split('?')[0]!;
  const polling = r.headers.get('operation-location') ?? r.headers.get('azure-asyncoperation');
  const location = r.headers.get('location');
  const config = polling
    ? { metadata: { mode: 'OperationLocation' }, operationLocation: polling, resourceLocation: url }
    : location
      ? { metadata: { mode: 'ResourceLocation' }, operationLocation: location }
      : { metadata: { mode: 'Body' }, operationLocation: url };
  return JSON.stringify({ state: { status: 'running', config } });
}
