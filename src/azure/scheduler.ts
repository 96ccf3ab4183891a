/**
 * The one scheduler every ARM call goes through (issue 4 "Reader", issue 8 "Scale").
 *
 * - `run(kind, fn, label)`: bounded concurrency (`p-limit`, first come first served), retries of 429 / 408 / 5xx (not 501/505) /
 *   connection resets with exponential backoff + jitter, a clear error naming the resource when it
 *   gives up, progress after every completed call.
 * - `pipelinePolicy`: added to every SDK client (phase `Retry`). It sees every HTTP request and
 *   response, reads `x-ms-ratelimit-remaining-subscription-reads|writes` and `Retry-After`, and
 *   paces each kind by its own bucket: one request until the server has answered (slow start),
 *   then the burst at full concurrency, then as fast as the bucket refills, the refill rate being
 *   measured from the reports (no rate is hard-coded). Its estimate of the budget left is a lower
 *   bound (responses overtake each other), so 429s stay rare; on a 429 it pauses that kind for
 *   Retry-After.
 *
 * SDK clients must run with their own retries off so they don't fight this scheduler:
 * `retryOptions: { maxRetries: 0 }` plus `additionalPolicies: [{ policy: scheduler.pipelinePolicy,
 * position: 'perRetry' }]` (or `client.pipeline.addPolicy(policy, { phase: 'Retry' })`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { PipelinePolicy, PipelineRequest, PipelineResponse } from '@azure/core-rest-pipeline';
import pLimit from 'p-limit';
import { ArmUnreachableError, classify, parseRetryAfterMs, type Classified } from './arm-retry.js';

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

/** Window (ms) over which the bucket's refill rate is measured, and the minimum span for a measurement. */
const RATE_WINDOW_MS = 10_000;
const RATE_MIN_SPAN_MS = 1_000;
/** Share of the measured refill rate we allow ourselves (absorbs measurement noise). */
const RATE_SAFETY = 0.95;
/**
 * Tokens left in the bucket on purpose once it is spent: room for the reported budget's rounding
 * and for other callers of the same principal. It costs no throughput (tokens below the cap are
 * not lost), only its refill time once, when the burst ends.
 */
const RESERVE_TOKENS = 1;
/** Reports kept per kind for the budget estimate, and how long the tightest one counts (a rate error grows with its age). */
const REPORTS_KEPT = 32;
const BEST_REPORT_MAX_AGE_MS = 2_000;
/**
 * `run` calls at once by default. Enough to spend the burst quickly and to keep up with the refill
 * at ARM's real latencies (25 reads/s × 0.3–1 s per call = 8–25 in flight); the budget, not this
 * cap, paces the calls once the burst is spent.
 */
const DEFAULT_CONCURRENCY = 32;

/**
 * One report of a remaining budget: its value, when it arrived, and `known`: how many requests of
 * its kind are known to have taken their token before it did (those answered before the request
 * it answers was sent, and that request itself).
 */
interface Report {
  remaining: number;
  at: number;
  known: number;
}

interface KindState {
  pausedUntil: number;
  /** Requests of this kind sent by the policy, done (answered or failed), and not done yet. */
  sent: number;
  answers: number;
  inflight: number;
  /** A response to a request of this kind has arrived (until then one request at a time: slow start). */
  heard: boolean;
  /** The last reports, newest last, and the one that gave the tightest estimate when it came. */
  reports: Report[];
  best: Report | undefined;
  /** The highest budget ever reported (no more than the bucket holds); -1 while the server reported none, only 429s. */
  maxRemaining: number;
  /** Consuming (non-429) responses seen, for the refill-rate measurement. */
  consumed: number;
  /** (time, remaining + consumed): its slope is the bucket's refill rate. */
  samples: { t: number; v: number }[];
  /** Refill per ms measured from `samples` (cached; undefined until measurable). */
  rate: number | undefined;
  /** Requests waiting for budget, first come first served. */
  queue: Array<() => void>;
  /** When the pending wake-up of the queue is due (Infinity: none). */
  wakeAt: number;
}

const newKindState = (): KindState => ({
  pausedUntil: 0,
  sent: 0,
  answers: 0,
  inflight: 0,
  heard: false,
  reports: [],
  best: undefined,
  maxRemaining: -1,
  consumed: 0,
  samples: [],
  rate: undefined,
  queue: [],
  wakeAt: Infinity,
});

/**
 * Refill per ms: least-squares slope of (time, remaining + consumed) over the window, or undefined
 * while the samples span less than RATE_MIN_SPAN_MS. The least-squares fit, not the two end points:
 * with many requests in flight, responses arrive out of the order the server took their tokens in,
 * so each sample is off by up to the number in flight; the fit averages that out.
 */
export function measureRefillPerMs(samples: ReadonlyArray<{ t: number; v: number }>, minSpanMs: number = RATE_MIN_SPAN_MS): number | undefined {
  if (samples.length < 2) return undefined;
  const t0 = samples[0]!.t;
  if (samples[samples.length - 1]!.t - t0 < minSpanMs) return undefined;
  let st = 0;
  let sv = 0;
  for (const s of samples) {
    st += s.t - t0;
    sv += s.v;
  }
  const mt = st / samples.length;
  const mv = sv / samples.length;
  let cov = 0;
  let varT = 0;
  for (const s of samples) {
    const dt = s.t - t0 - mt;
    cov += dt * (s.v - mv);
    varT += dt * dt;
  }
  if (varT <= 0) return undefined;
  const rate = cov / varT;
  return rate > 0 ? rate : undefined;
}

/**
 * A lower bound of the budget left now, from the last reports. A report says what remained when its
 * request took a token; since then the bucket refilled at `rate` (per ms) at least from the moment
 * the report arrived, and lost one token per request that may have taken one after it: every
 * request sent, less those known to have taken theirs before (answered before the reported request
 * was sent). Responses overtake each other, so the newest report is not always the tightest: the
 * best of the last few counts. Requests in flight are over-counted, never under-counted: holding a
 * few tokens back costs no throughput (tokens below the bucket's cap are not lost, the next
 * reports show them), while one token too many costs a 429.
 */
function budgetEstimate(s: Pick<KindState, 'reports' | 'best' | 'sent'>, rate: number, t: number, cap: number): number {
  const of = (r: Report) => Math.min(r.remaining + rate * (t - r.at), Math.max(cap, r.remaining)) - (s.sent - r.known);
  let best = s.best && t - s.best.at <= BEST_REPORT_MAX_AGE_MS ? of(s.best) : -Infinity;
  for (const r of s.reports) best = Math.max(best, of(r));
  return best;
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

  const kinds: Record<ArmCallKind, KindState> = { read: newKindState(), write: newKindState() };

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

  const pause = (kind: ArmCallKind, ms: number) => {
    const until = now() + ms;
    if (until > kinds[kind].pausedUntil) kinds[kind].pausedUntil = until;
  };

  const waitWhilePaused = async (kind: ArmCallKind) => {
    for (let t = now(); kinds[kind].pausedUntil > t; t = now()) await sleep(kinds[kind].pausedUntil - t);
  };

  /**
   * Ms to wait before one more request of `kind` may be sent; 0 = now, -1 = when a response arrives.
   *
   * The budget is mirrored from the server's reports (see `budgetEstimate`), less a small reserve.
   * While it lasts (the burst) nothing holds requests back but `maxConcurrency`; once it is spent,
   * requests go out as the refill measured from the reports allows. Sending later than the server
   * could take costs nothing as long as the bucket is below its cap: the tokens wait in it, and the
   * next report shows them.
   */
  const budgetDelay = (kind: ArmCallKind): number => {
    const s = kinds[kind];
    const t = now();
    if (s.pausedUntil > t) return s.pausedUntil - t;
    // Slow start: until the server has answered once, its budget is unknown (a bucket another run
    // just drained would answer a full volley with 429s): one request at a time.
    if (!s.heard) return s.inflight > 0 ? -1 : 0;
    // The server does not report this budget: only 429s (with Retry-After) hold requests back.
    if (!s.reports.length) return 0;
    const rate = s.rate === undefined ? 0 : s.rate * RATE_SAFETY;
    let estimate: number;
    if (s.maxRemaining >= 0) {
      // No projection above what the bucket holds (after a pause, say): at least the highest budget
      // ever reported, and at least what maxConcurrency spends at once (ARM's buckets hold 200+).
      estimate = budgetEstimate(s, rate, t, Math.max(s.maxRemaining, maxConcurrency + RESERVE_TOKENS)) - RESERVE_TOKENS;
    } else {
      // Only 429s told the budget (none left at that moment): what refilled since, less what was
      // sent since, and never more than maxConcurrency (the bucket's size is not known).
      const last = s.reports[s.reports.length - 1]!;
      estimate = Math.min(rate * (t - last.at) - (s.sent - last.known), maxConcurrency);
    }
    if (estimate >= 1) return 0;
    if (rate > 0) return Math.max(1, Math.ceil((1 - estimate) / rate));
    // Rate not measured yet: wait for answers, then probe once a second after the last report
    // (the tokens refilled meanwhile are not lost: the bucket is below its cap).
    if (s.inflight > 0) return -1;
    const probeAt = s.reports[s.reports.length - 1]!.at + RATE_MIN_SPAN_MS;
    return probeAt > t ? probeAt - t : 0;
  };

  /** Lets waiting requests of `kind` go, first come first served, as far as the budget allows. */
  const pump = (kind: ArmCallKind) => {
    const s = kinds[kind];
    while (s.queue.length) {
      const d = budgetDelay(kind);
      if (d === 0) {
        s.inflight++;
        s.sent++;
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
            pump(kind);
          });
        }
      }
      return;
    }
  };

  const acquireBudget = (kind: ArmCallKind): Promise<void> | void => {
    const s = kinds[kind];
    if (!s.queue.length && budgetDelay(kind) === 0) {
      s.inflight++;
      s.sent++;
      return;
    }
    return new Promise<void>((resolve) => {
      s.queue.push(resolve);
      pump(kind);
    });
  };

  /** Takes in what a response reports; `answersAtSend`: responses of each kind received when its request was sent. */
  const observe = (reqKind: ArmCallKind, answersAtSend: Record<ArmCallKind, number>, request: PipelineRequest, response: PipelineResponse) => {
    counters.requests++;
    const t = now();
    const h = response.headers;
    kinds[reqKind].answers++;
    kinds[reqKind].heard = true;
    for (const kind of ['read', 'write'] as const) {
      const s = kinds[kind];
      const own = kind === reqKind;
      if (own && response.status !== 429) s.consumed++;
      const raw = h.get(`x-ms-ratelimit-remaining-subscription-${kind}s`);
      let remaining = raw === undefined || raw.trim() === '' ? NaN : Number(raw);
      // A 429 that reports no budget still tells one: none left.
      if (!Number.isFinite(remaining)) {
        if (!own || response.status !== 429) continue;
        remaining = 0;
      }
      if (raw !== undefined && remaining > s.maxRemaining) s.maxRemaining = remaining;
      const report: Report = { remaining, at: t, known: answersAtSend[kind] + (own ? 1 : 0) };
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
      if (ra !== undefined) pause(reqKind, ra);
    }
  };

  const pipelinePolicy: PipelinePolicy = {
    name: RATE_LIMIT_POLICY_NAME,
    async sendRequest(request, next) {
      const kind: ArmCallKind = request.method === 'GET' || request.method === 'HEAD' ? 'read' : 'write';
      await acquireBudget(kind);
      if (kind === 'write' && halted(gate.getStore())) {
        // Waited for budget while the apply was interrupted: give the slot back, send nothing.
        kinds[kind].inflight--;
        kinds[kind].sent--;
        pump(kind);
        throw new WritesHaltedError(`${request.method} ${new URL(request.url).pathname}`);
      }
      const answersAtSend = { read: kinds.read.answers, write: kinds.write.answers };
      let response: PipelineResponse;
      try {
        response = await next(request);
      } catch (err) {
        // No answer (a reset, say): whatever it took from the bucket, it took before any request sent from now on.
        kinds[kind].inflight--;
        kinds[kind].answers++;
        pump(kind);
        throw err;
      }
      kinds[kind].inflight--;
      observe(kind, answersAtSend, request, response);
      pump('read');
      pump('write');
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
