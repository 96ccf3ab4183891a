/**
 * The one scheduler every ARM call goes through (issue 4 "Reader", issue 8 "Scale").
 *
 * - `run(kind, fn, label)`: bounded concurrency (`p-limit`, first come first served), retries of 429 / 408 / 5xx (not 501/505) /
 *   connection resets with exponential backoff + jitter, a clear error naming the resource when it
 *   gives up, progress after every completed call.
 * - `pipelinePolicy`: added to every SDK client (phase `Retry`). It sees every HTTP request and
 *   response, reads `x-ms-ratelimit-remaining-subscription-{reads,writes,deletes}` (this principal's
 *   buckets), `…-subscription-global-{reads,writes,deletes}` (the subscription's, shared by every
 *   principal) and `Retry-After`. A request of an operation type (GET/HEAD read, DELETE delete,
 *   anything else write, as ARM counts them) draws on two buckets, its principal's and the global
 *   one, and is paced by whichever is lower: one request until the server has answered (slow
 *   start), then the burst at full concurrency, then as fast as the bucket refills, the refill rate
 *   being measured from the reports (no rate is hard-coded). A bucket the server never reports
 *   holds nothing back. Its estimate of the budget left is a lower bound (responses overtake each
 *   other), so 429s stay rare; on a 429 it pauses that operation type for Retry-After.
 *
 * SDK clients must run with their own retries off so they don't fight this scheduler:
 * `retryOptions: { maxRetries: 0 }` plus `additionalPolicies: [{ policy: scheduler.pipelinePolicy,
 * position: 'perRetry' }]` (or `client.pipeline.addPolicy(policy, { phase: 'Retry' })`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PipelinePolicy, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import pLimit from 'p-limit';
import { ArmUnreachableError, classify, parseRetryAfterMs, type Classified } from './arm-retry.js';
import {
  BEST_REPORT_MAX_AGE_MS,
  BUCKET_NAMES,
  OPERATION_TYPES,
  RATE_SAFETY,
  RATE_WINDOW_MS,
  REPORTS_KEPT,
  bucketDelay,
  bucketsOf,
  combineDelays,
  measureRefillPerMs,
  newBucketState,
  operationTypeOf,
  type ArmBucketName,
  type ArmOperationType,
  type BucketState,
  type Report,
} from './arm-buckets.js';

export { bucketDelay, bucketsOf, combineDelays, measureRefillPerMs, newBucketState, operationTypeOf, type ArmBucketName, type ArmOperationType, type BucketState };

export type ArmCallKind = 'read' | 'write';
export interface ArmSchedulerOptions {
  /** Calls of `run` executing at once (default 32). */
  maxConcurrency?: number;
  /** Attempts per call before giving up (default 8). */
  maxAttempts?: number;
  /** Called after each completed call (success or final failure). */
  onProgress?: (done: number, total: number) => void;
  /** Injectable for tests. */
  sleep?: (ms: number) => Promise<void>;
  /** Injectable for tests; in [0, 1). */
  random?: () => number;
  /** Injectable for tests; milliseconds. */
  now?: () => number;
  /** Backoff base (default 500 ms) and cap (default 30 s). */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export interface ArmSchedulerStats {
  /** `run` calls submitted. */
  calls: number;
  /** Attempts repeated after a retryable failure. */
  retries: number;
  /** 429 responses seen (by the pipeline policy or by `run`). */
  throttled: number;
  /** `run` calls that ended in an error. */
  failed: number;
  /** HTTP responses seen by the pipeline policy. */
  requests: number;
}

export interface ArmScheduler {
  run<T>(kind: ArmCallKind, fn: () => Promise<T>, label?: string): Promise<T>;
  pipelinePolicy: PipelinePolicy;
  stats(): ArmSchedulerStats;
  /**
   * Runs `fn` as one gated piece of work: every write it makes (its calls of `run`, each retry,
   * each HTTP request) is refused with `WritesHaltedError` once `haltWrites` was called after `fn`
   * started, even when it waits in a queue or a backoff then. What was sent before settles as usual.
   */
  gateWrites<T>(fn: () => Promise<T>): Promise<T>;
  /** Stops the writes of every gated piece of work started so far (an interrupted apply); later ones go out. */
  haltWrites(): void;
}

/** A write of an interrupted apply that was not sent: it did not reach ARM. */
export class WritesHaltedError extends Error {
  override readonly name = 'WritesHaltedError';
  constructor(readonly label: string) {
    super(`${label}: not sent, the apply was interrupted before it went out`);
  }
}

/** Thrown when a call is still failing after `maxAttempts`. */
export class ArmRetryExhaustedError extends Error {
  override readonly name = 'ArmRetryExhaustedError';
  constructor(
    message: string,
    readonly label: string,
    readonly attempts: number,
    readonly statusCode: number | undefined,
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export const RATE_LIMIT_POLICY_NAME = 'apimPolicyDeployRateLimit';

/**
 * `run` calls at once by default. Enough to spend the burst quickly and to keep up with the refill
 * at ARM's real latencies (25 reads/s × 0.3–1 s per call = 8–25 in flight); the budget, not this
 * cap, paces the calls once the burst is spent.
 */
const DEFAULT_CONCURRENCY = 32;

/** One operation type: its Retry-After pause and the requests waiting for budget. */
interface OperationState {
  pausedUntil: number;
  /** Requests waiting for budget, first come first served. */
  queue: Array<() => void>;
  /** When the pending wake-up of the queue is due (Infinity: none). */
  wakeAt: number;
}

export { parseRetryAfterMs };

export function createArmScheduler(options: ArmSchedulerOptions = {}): ArmScheduler {
  const maxConcurrency = Math.max(1, Math.floor(options.maxConcurrency ?? DEFAULT_CONCURRENCY));
  const maxAttempts = Math.max(1, Math.floor(options.maxAttempts ?? 8));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const baseDelay = options.baseDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 30_000;

  const counters: ArmSchedulerStats = { calls: 0, retries: 0, throttled: 0, failed: 0, requests: 0 };
  let done = 0;
  let total = 0;
  /** Requests whose 429 the policy already counted (so `run` does not count it twice). */
  const seen429 = new WeakSet<object>();

  const buckets = Object.fromEntries(BUCKET_NAMES.map((b) => [b, newBucketState()])) as Record<ArmBucketName, BucketState>;
  const newOperationState = (): OperationState => ({ pausedUntil: 0, queue: [], wakeAt: Infinity });
  const ops: Record<ArmOperationType, OperationState> = { read: newOperationState(), write: newOperationState(), delete: newOperationState() };

  const limit = pLimit(maxConcurrency);

  // Gated work carries the halt generation it started in; a halt starts a new one. The generation
  // travels with the async context, so it reaches the pipeline policy through the SDK's calls.
  const gate = new AsyncLocalStorage<{ generation: number }>();
  let generation = 0;
  const deferred = () => {
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    return { promise, resolve };
  };
  let onHalt = deferred();
  const halted = (g: { generation: number } | undefined) => g !== undefined && g.generation !== generation;

  const pause = (op: ArmOperationType, ms: number) => {
    const until = now() + ms;
    if (until > ops[op].pausedUntil) ops[op].pausedUntil = until;
  };

  const waitWhilePaused = async (op: ArmOperationType) => {
    for (let t = now(); ops[op].pausedUntil > t; t = now()) await sleep(ops[op].pausedUntil - t);
  };

  /** Ms to wait before one more request of `op` may be sent (0 = now, -1 = when a response arrives): its lowest bucket decides. */
  const budgetDelay = (op: ArmOperationType): number => {
    const t = now();
    if (ops[op].pausedUntil > t) return ops[op].pausedUntil - t;
    return combineDelays(bucketsOf(op).map((b) => bucketDelay(buckets[b], t, maxConcurrency)));
  };

  const take = (op: ArmOperationType, n: 1 | -1) => {
    for (const b of bucketsOf(op)) {
      buckets[b].inflight += n;
      buckets[b].sent += n;
    }
  };

  /** Lets waiting requests of `op` go, first come first served, as far as the budget allows. */
  const pump = (op: ArmOperationType) => {
    const s = ops[op];
    while (s.queue.length) {
      const d = budgetDelay(op);
      if (d === 0) {
        take(op, 1);
        s.queue.shift()!();
        continue;
      }
      // d < 0: the next response pumps again. Otherwise one wake-up, unless one is due sooner.
      if (d > 0) {
        const at = now() + d;
        if (at < s.wakeAt) {
          s.wakeAt = at;
          void sleep(d).then(() => {
            if (s.wakeAt === at) s.wakeAt = Infinity;
            pump(op);
          });
        }
      }
      return;
    }
  };

  const acquireBudget = (op: ArmOperationType): Promise<void> | void => {
    const s = ops[op];
    if (!s.queue.length && budgetDelay(op) === 0) {
      take(op, 1);
      return;
    }
    return new Promise<void>((resolve) => {
      s.queue.push(resolve);
      pump(op);
    });
  };

  /** Takes in what a response reports; `answersAtSend`: responses of each bucket received when its request was sent. */
  const observe = (reqOp: ArmOperationType, answersAtSend: Record<ArmBucketName, number>, request: PipelineRequest, response: PipelineResponse) => {
    counters.requests++;
    const t = now();
    const h = response.headers;
    const mine = bucketsOf(reqOp);
    for (const b of mine) {
      buckets[b].answers++;
      buckets[b].heard = true;
    }
    for (const name of BUCKET_NAMES) {
      const s = buckets[name];
      const own = mine.includes(name);
      if (own && response.status !== 429) s.consumed++;
      const raw = h.get(`x-ms-ratelimit-remaining-subscription-${name}`);
      let remaining = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
      // A 429 that reports no budget still tells one: none left (of the principal's bucket; a
      // global bucket is known only from its own reports).
      if (!Number.isFinite(remaining)) {
        if (!own || response.status !== 429 || name.startsWith('global-')) continue;
        remaining = 0;
      }
      if (raw !== undefined && remaining > s.maxRemaining) s.maxRemaining = remaining;
      const report: Report = { remaining, at: t, known: answersAtSend[name] + (own ? 1 : 0) };
      // The tightest report is kept even when a volley of looser ones (sent together) follows it.
      const r = (s.rate ?? 0) * RATE_SAFETY;
      if (!s.best || t - s.best.at > BEST_REPORT_MAX_AGE_MS || remaining - r * t + report.known >= s.best.remaining - r * s.best.at + s.best.known) s.best = report;
      s.reports.push(report);
      if (s.reports.length > REPORTS_KEPT) s.reports.shift();
      s.samples.push({ t, v: remaining + s.consumed });
      let drop = 0;
      while (s.samples.length - drop > 2 && t - s.samples[drop + 1]!.t >= RATE_WINDOW_MS) drop++;
      if (drop) s.samples.splice(0, drop);
      s.rate = measureRefillPerMs(s.samples);
    }
    if (response.status === 429) {
      counters.throttled++;
      seen429.add(request);
      const ra = parseRetryAfterMs((n) => h.get(n), t);
      if (ra !== undefined) pause(reqOp, ra);
    }
  };

  const pipelinePolicy: PipelinePolicy = {
    name: RATE_LIMIT_POLICY_NAME,
    async sendRequest(request, next) {
      const op = operationTypeOf(request.method);
      await acquireBudget(op);
      if (op !== 'read' && halted(gate.getStore())) {
        // Waited for budget while the apply was interrupted: give the slot back, send nothing.
        take(op, -1);
        pump(op);
        throw new WritesHaltedError(`${request.method} ${new URL(request.url).pathname}`);
      }
      const answersAtSend = Object.fromEntries(BUCKET_NAMES.map((b) => [b, buckets[b].answers])) as Record<ArmBucketName, number>;
      let response: PipelineResponse;
      try {
        response = await next(request);
      } catch (err) {
        // No answer (a reset, say): whatever it took from the bucket, it took before any request sent from now on.
        for (const b of bucketsOf(op)) {
          buckets[b].inflight--;
          buckets[b].answers++;
        }
        pump(op);
        throw err;
      }
      for (const b of bucketsOf(op)) buckets[b].inflight--;
      observe(op, answersAtSend, request, response);
      for (const o of OPERATION_TYPES) pump(o);
      return response;
    },
  };

  const backoff = (failures: number) => {
    const ceiling = Math.min(maxDelay, baseDelay * 2 ** (failures - 1));
    return Math.round(ceiling * (0.5 + 0.5 * random()));
  };

  const progress = () => {
    done++;
    options.onProgress?.(done, total);
  };

  const giveUp = (c: Classified, label: string, err: unknown): ArmRetryExhaustedError => {
    const what =
      c.status === 429
        ? `ARM kept answering 429 for ${label} after ${maxAttempts} attempts; try again later or lower concurrency`
        : c.status !== undefined
          ? `ARM kept answering ${c.status} for ${label} after ${maxAttempts} attempts; ARM or the service may be degraded, try again later`
          : `the connection to ARM kept failing (${c.code ?? 'connection reset'}) for ${label} after ${maxAttempts} attempts; check the network or proxy and try again`;
    return new ArmRetryExhaustedError(what, label, maxAttempts, c.status, c.code, { cause: err });
  };

  async function withRetries<T>(kind: ArmCallKind, fn: () => Promise<T>, label: string): Promise<T> {
    const gated = kind === 'write' ? gate.getStore() : undefined;
    for (let attempt = 1; ; attempt++) {
      await waitWhilePaused(kind);
      if (halted(gated)) {
        counters.failed++;
        progress();
        throw new WritesHaltedError(label);
      }
      try {
        const result = await fn();
        progress();
        return result;
      } catch (err) {
        const c = classify(err, now());
        if (c.status === 429 && !(c.request && typeof c.request === 'object' && seen429.has(c.request))) {
          counters.throttled++;
          if (c.retryAfterMs !== undefined) pause(kind, c.retryAfterMs);
        }
        // Nothing listens and ARM never answered this run: a wrong endpoint, not a reset; say so now.
        const unreachable = c.unreachable && counters.requests === 0;
        if (!c.retryable || unreachable) {
          counters.failed++;
          progress();
          throw unreachable ? new ArmUnreachableError(label, c.code ?? 'ECONNREFUSED', { cause: err }) : err;
        }
        if (attempt >= maxAttempts) {
          counters.failed++;
          progress();
          throw giveUp(c, label, err);
        }
        counters.retries++;
        // A 429 with Retry-After waits for the kind-wide pause (taken at the top of the loop).
        if (c.status === 429 && c.retryAfterMs !== undefined) continue;
        const wait = sleep(Math.max(backoff(attempt), c.retryAfterMs ?? 0));
        // A gated write stops waiting for its retry when the apply is interrupted.
        await (gated ? Promise.race([wait, onHalt.promise]) : wait);
      }
    }
  }

  function run<T>(kind: ArmCallKind, fn: () => Promise<T>, label = 'ARM call'): Promise<T> {
    counters.calls++;
    total++;
    // p-limit starts queued calls from whichever call finished: carry the caller's gate along.
    const gated = gate.getStore();
    return limit(() => (gated ? gate.run(gated, () => withRetries(kind, fn, label)) : withRetries(kind, fn, label)));
  }

  const gateWrites = <T>(fn: () => Promise<T>): Promise<T> => gate.run({ generation }, fn);

  const haltWrites = () => {
    generation++;
    const woken = onHalt;
    onHalt = deferred();
    woken.resolve();
  };

  return { run, pipelinePolicy, stats: () => ({ ...counters }), gateWrites, haltWrites };
}
