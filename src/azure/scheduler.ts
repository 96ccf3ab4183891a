/**
 * The one scheduler every ARM call goes through (issue 4 "Reader", issue 8 "Scale").
 *
 * - `run(kind, fn, label)`: bounded concurrency (`p-limit`, first come first served), retries of 429 / 408 / 5xx (not 501/505) /
 *   connection resets with exponential backoff + jitter, a clear error naming the resource when it
 *   gives up, progress after every completed call.
 * - `pipelinePolicy`: added to every SDK client (phase `Retry`). It sees every HTTP request and
 *   response, reads `x-ms-ratelimit-remaining-subscription-reads|writes` and `Retry-After`, paces
 *   requests so the remaining budget is not exhausted (the refill rate is measured from what the
 *   server reports; no rate is hard-coded) and, on 429, pauses every request of that kind.
 *
 * SDK clients must run with their own retries off so they don't fight this scheduler:
 * `retryOptions: { maxRetries: 0 }` plus `additionalPolicies: [{ policy: scheduler.pipelinePolicy,
 * position: 'perRetry' }]` (or `client.pipeline.addPolicy(policy, { phase: 'Retry' })`).
 * See AZURE-CONTRACT.md §6.
 */
import type { PipelinePolicy, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import pLimit from 'p-limit';

export type ArmCallKind = 'read' | 'write';

export interface ArmSchedulerOptions {
  /** Calls of `run` executing at once (default 8). */
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

const RESET_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'ECONNREFUSED', 'EPIPE', 'ECONNABORTED']);
const RESET_MESSAGE = /socket hang up|ECONNRESET|ETIMEDOUT|ECONNREFUSED/i;
/** Window (ms) over which the bucket's refill rate is measured, and the minimum span for a measurement. */
const RATE_WINDOW_MS = 10_000;
const RATE_MIN_SPAN_MS = 1_000;
/** Share of the measured refill rate we allow ourselves (absorbs measurement noise). */
const RATE_SAFETY = 0.95;

/** Retry-After in ms from headers: `retry-after-ms`, `x-ms-retry-after-ms`, `Retry-After` (seconds or HTTP date). */
export function parseRetryAfterMs(get: (name: string) => string | undefined, nowMs: number = Date.now()): number | undefined {
  for (const h of ['retry-after-ms', 'x-ms-retry-after-ms']) {
    const v = get(h);
    if (v !== undefined && v.trim() !== '' && Number.isFinite(Number(v))) return Math.max(0, Number(v));
  }
  const ra = get('retry-after');
  if (ra === undefined || ra.trim() === '') return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Math.max(0, Number(ra) * 1000);
  const date = Date.parse(ra);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

interface Classified {
  status: number | undefined;
  code: string | undefined;
  retryable: boolean;
  reset: boolean;
  retryAfterMs: number | undefined;
  request: unknown;
}

function headerGetter(h: unknown): (name: string) => string | undefined {
  if (!h || typeof h !== 'object') return () => undefined;
  const anyH = h as { get?: (n: string) => string | undefined } & Record<string, unknown>;
  if (typeof anyH.get === 'function') return (n) => anyH.get!(n) ?? undefined;
  return (n) => {
    for (const [k, v] of Object.entries(anyH)) if (k.toLowerCase() === n) return v === undefined ? undefined : String(v);
    return undefined;
  };
}

function classify(err: unknown, nowMs: number): Classified {
  const e = (err ?? {}) as Record<string, any>;
  const status: number | undefined = typeof e.statusCode === 'number' ? e.statusCode : typeof e.status === 'number' ? e.status : undefined;
  const code: string | undefined = typeof e.code === 'string' ? e.code : typeof e.cause?.code === 'string' ? e.cause.code : undefined;
  const get = headerGetter(e.response?.headers ?? e.headers);
  const retryAfterMs = typeof e.retryAfterMs === 'number' ? e.retryAfterMs : parseRetryAfterMs(get, nowMs);
  const reset = status === undefined && ((code !== undefined && RESET_CODES.has(code)) || RESET_MESSAGE.test(String(e.message ?? '')));
  const retryable = reset || status === 429 || status === 408 || (status !== undefined && status >= 500 && status !== 501 && status !== 505);
  return { status, code, retryable, reset, retryAfterMs, request: e.request };
}

interface KindState {
  pausedUntil: number;
  /** Requests sent by the policy whose response has not arrived. */
  inflight: number;
  /** Last reported remaining budget, when it was seen. */
  lastRemaining: number | undefined;
  lastReportAt: number;
  /** Consuming (non-429) responses seen, for the refill-rate measurement. */
  consumed: number;
  /** (time, remaining + consumed): its slope is the bucket's refill rate. */
  samples: { t: number; v: number }[];
}

export function createArmScheduler(options: ArmSchedulerOptions = {}): ArmScheduler {
  const maxConcurrency = Math.max(1, Math.floor(options.maxConcurrency ?? 8));
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

  const kinds: Record<ArmCallKind, KindState> = {
    read: { pausedUntil: 0, inflight: 0, lastRemaining: undefined, lastReportAt: 0, consumed: 0, samples: [] },
    write: { pausedUntil: 0, inflight: 0, lastRemaining: undefined, lastReportAt: 0, consumed: 0, samples: [] },
  };

  // Wake-ups for requests waiting on the budget: every response may change it.
  let wake: (() => void) | undefined;
  let wakePromise: Promise<void> | undefined;
  const changed = (): Promise<void> => (wakePromise ??= new Promise<void>((r) => (wake = r)));
  const notify = () => {
    const w = wake;
    wake = undefined;
    wakePromise = undefined;
    w?.();
  };

  const limit = pLimit(maxConcurrency);

  const pause = (kind: ArmCallKind, ms: number) => {
    const until = now() + ms;
    if (until > kinds[kind].pausedUntil) kinds[kind].pausedUntil = until;
  };

  const waitWhilePaused = async (kind: ArmCallKind) => {
    for (let t = now(); kinds[kind].pausedUntil > t; t = now()) await sleep(kinds[kind].pausedUntil - t);
  };

  /** Bucket refill per ms, measured from the reports; undefined until a span of ≥ 1 s was observed. */
  const refillPerMs = (s: KindState): number | undefined => {
    const samples = s.samples;
    if (samples.length < 2) return undefined;
    const first = samples[0];
    const last = samples[samples.length - 1];
    const span = last.t - first.t;
    if (span < RATE_MIN_SPAN_MS) return undefined;
    const rate = (last.v - first.v) / span;
    return rate > 0 ? rate * RATE_SAFETY : undefined;
  };

  /** Ms to wait before one more request of `kind` may be sent; 0 = now. */
  const budgetDelay = (kind: ArmCallKind): number => {
    const s = kinds[kind];
    const t = now();
    if (s.pausedUntil > t) return s.pausedUntil - t;
    if (s.lastRemaining === undefined) return 0;
    const rate = refillPerMs(s);
    // Conservative: every unanswered request counts as not yet reflected in the last report.
    const estimate = s.lastRemaining + (rate ?? 0) * (t - s.lastReportAt) - s.inflight;
    if (estimate >= 1) return 0;
    if (rate !== undefined) return Math.max(1, Math.ceil((1 - estimate) / rate));
    // Rate not measured yet: wait for answers, then probe once after a second to measure the refill.
    if (s.inflight > 0) return -1;
    const probeAt = s.lastReportAt + RATE_MIN_SPAN_MS;
    return probeAt > t ? probeAt - t : 0;
  };

  const acquireBudget = async (kind: ArmCallKind) => {
    for (;;) {
      const d = budgetDelay(kind);
      if (d === 0) {
        kinds[kind].inflight++;
        return;
      }
      if (d < 0) await changed();
      else await Promise.race([sleep(d), changed()]);
    }
  };

  const observe = (reqKind: ArmCallKind, request: PipelineRequest, response: PipelineResponse) => {
    counters.requests++;
    const t = now();
    const h = response.headers;
    for (const kind of ['read', 'write'] as const) {
      const raw = h.get(`x-ms-ratelimit-remaining-subscription-${kind}s`);
      if (raw === undefined || raw.trim() === '' || !Number.isFinite(Number(raw))) continue;
      const s = kinds[kind];
      if (response.status !== 429) s.consumed++;
      s.lastRemaining = Number(raw);
      s.lastReportAt = t;
      s.samples.push({ t, v: s.lastRemaining + s.consumed });
      while (s.samples.length > 2 && t - s.samples[1].t >= RATE_WINDOW_MS) s.samples.shift();
    }
    if (response.status === 429) {
      counters.throttled++;
      seen429.add(request);
      const ra = parseRetryAfterMs((n) => h.get(n), t);
      if (ra !== undefined) pause(reqKind, ra);
    }
    notify();
  };

  const pipelinePolicy: PipelinePolicy = {
    name: RATE_LIMIT_POLICY_NAME,
    async sendRequest(request, next) {
      const kind: ArmCallKind = request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write';
      await acquireBudget(kind);
      let response: PipelineResponse;
      try {
        response = await next(request);
      } catch (err) {
        kinds[kind].inflight--;
        notify();
        throw err;
      }
      kinds[kind].inflight--;
      observe(kind, request, response);
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
    for (let attempt = 1; ; attempt++) {
      await waitWhilePaused(kind);
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
        if (!c.retryable) {
          counters.failed++;
          progress();
          throw err;
        }
        if (attempt >= maxAttempts) {
          counters.failed++;
          progress();
          throw giveUp(c, label, err);
        }
        counters.retries++;
        // A 429 with Retry-After waits for the kind-wide pause (taken at the top of the loop).
        if (c.status === 429 && c.retryAfterMs !== undefined) continue;
        await sleep(Math.max(backoff(attempt), c.retryAfterMs ?? 0));
      }
    }
  }

  function run<T>(kind: ArmCallKind, fn: () => Promise<T>, label = 'ARM call'): Promise<T> {
    counters.calls++;
    total++;
    return limit(() => withRetries(kind, fn, label));
  }

  return { run, pipelinePolicy, stats: () => ({ ...counters }) };
}
