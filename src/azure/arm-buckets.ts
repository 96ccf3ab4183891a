/**
 * ARM's throttling buckets as the scheduler (scheduler.ts) mirrors them from the
 * `x-ms-ratelimit-remaining-subscription-*` reports: operation types, the buckets a request draws
 * on, the budget estimate and the wait it implies (pure functions of the reports and the time).
 */
/** ARM's operation types, each with buckets of its own (a DELETE is not a write to ARM's throttling). */
export type ArmOperationType = 'read' | 'write' | 'delete';
/** The buckets a response may report: this principal's, and the subscription's global ones. */
export type ArmBucketName = 'reads' | 'writes' | 'deletes' | 'global-reads' | 'global-writes' | 'global-deletes';
export const OPERATION_TYPES: readonly ArmOperationType[] = ['read', 'write', 'delete'];
export const BUCKET_NAMES: readonly ArmBucketName[] = ['reads', 'writes', 'deletes', 'global-reads', 'global-writes', 'global-deletes'];
/** The buckets a request of `op` takes a token from. */
export const bucketsOf = (op: ArmOperationType): [ArmBucketName, ArmBucketName] => [`${op}s`, `global-${op}s`];
export const operationTypeOf = (method: string): ArmOperationType => {
  const m = method.toUpperCase();
  return m === 'GET' || m === 'HEAD' ? 'read' : m === 'DELETE' ? 'delete' : 'write';
};

/** Window (ms) over which the bucket's refill rate is measured, and the minimum span for a measurement. */
export const RATE_WINDOW_MS = 10_000;
export const RATE_MIN_SPAN_MS = 1_000;
/** Share of the measured refill rate we allow ourselves (absorbs measurement noise). */
export const RATE_SAFETY = 0.95;
/**
 * Tokens left in the bucket on purpose once it is spent: room for the reported budget's rounding
 * and for other callers of the same principal. It costs no throughput (tokens below the cap are
 * not lost), only its refill time once, when the burst ends.
 */
export const RESERVE_TOKENS = 1;
/** Reports kept per kind for the budget estimate, and how long the tightest one counts (a rate error grows with its age). */
export const REPORTS_KEPT = 32;
export const BEST_REPORT_MAX_AGE_MS = 2_000;
/** The longest wait for budget projected from a measured refill; past it, one probe instead (see `bucketDelay`). */
export const MAX_BUDGET_WAIT_MS = 2_000;

/**
 * One report of a remaining budget: its value, when it arrived, and `known`: how many requests of
 * its kind are known to have taken their token before it did (those answered before the request
 * it answers was sent, and that request itself).
 */
export interface Report {
  remaining: number;
  at: number;
  known: number;
}

/** One bucket, as mirrored from the server's reports. */
export interface BucketState {
  /** Requests drawing on this bucket sent by the policy, done (answered or failed), and not done yet. */
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
}

export const newBucketState = (): BucketState => ({
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
function budgetEstimate(s: Pick<BucketState, 'reports' | 'best' | 'sent'>, rate: number, t: number, cap: number): number {
  const of = (r: Report) => Math.min(r.remaining + rate * (t - r.at), Math.max(cap, r.remaining)) - (s.sent - r.known);
  let best = s.best && t - s.best.at <= BEST_REPORT_MAX_AGE_MS ? of(s.best) : -Infinity;
  for (const r of s.reports) best = Math.max(best, of(r));
  return best;
}

/**
 * Ms to wait before one more request may draw on bucket `s`; 0 = now, -1 = when a response arrives.
 *
 * The budget is mirrored from the server's reports (see `budgetEstimate`), less a small reserve.
 * While it lasts (the burst) nothing holds requests back but `maxConcurrency`; once it is spent,
 * requests go out as the refill measured from the reports allows. Sending later than the server
 * could take costs nothing as long as the bucket is below its cap: the tokens wait in it, and the
 * next report shows them.
 */
export function bucketDelay(s: BucketState, t: number, maxConcurrency: number): number {
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
  if (rate > 0) {
    const wait = Math.max(1, Math.ceil((1 - estimate) / rate));
    if (wait <= MAX_BUDGET_WAIT_MS) return wait;
  }
  // Rate not measured yet, or so low that the projected wait is long (other processes draining the
  // same bucket leave a measured refill near zero, and the projection would be hours): wait for
  // answers, then probe once a second (MAX_BUDGET_WAIT_MS when a rate was measured) after the last
  // report; the probe's answer is a fresh report (the tokens refilled meanwhile are not lost).
  if (s.inflight > 0) return -1;
  const probeAt = s.reports[s.reports.length - 1]!.at + (rate > 0 ? MAX_BUDGET_WAIT_MS : RATE_MIN_SPAN_MS);
  return probeAt > t ? probeAt - t : 0;
}

/**
 * The wait of a request that draws on several buckets: the lowest bucket decides. The longest
 * timed wait wins; failing that, waiting for a response (-1); 0 only when every bucket has room.
 */
export function combineDelays(delays: readonly number[]): number {
  let timed = 0;
  let onResponse = false;
  for (const d of delays) {
    if (d > timed) timed = d;
    else if (d < 0) onResponse = true;
  }
  return timed > 0 ? timed : onResponse ? -1 : 0;
}
