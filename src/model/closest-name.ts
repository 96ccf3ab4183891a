/**
 * "Did you mean …?": the one edit distance and the one nearest-name search behind every
 * suggestion (policy names in lint, role names, aliases, variables and keys of identity.yaml).
 */

export interface EditDistanceOptions {
  /**
   * Count a swap of two neighbours as one edit (optimal string alignment) instead of two
   * (Levenshtein): a swapped pair (`darp` for `dapr`) is the commonest slip in a policy name.
   */
  swaps?: boolean;
}

export function editDistance(a: string, b: string, options: EditDistanceOptions = {}): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (options.swaps && i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

export interface ClosestNameOptions extends EditDistanceOptions {
  /** One slip allowed per this many characters of the (normalised) name, at least one and at most three. */
  charactersPerSlip: number;
  /** What is compared of each name (default: lower case). */
  normalise?: (name: string) => string;
}

/** The candidate `name` most likely means, or undefined when none is within the allowed slips. */
export function closestName(name: string, candidates: Iterable<string>, options: ClosestNameOptions): string | undefined {
  const normalise = options.normalise ?? ((s: string) => s.toLowerCase());
  const wanted = normalise(name);
  const limit = Math.min(3, Math.max(1, Math.floor(wanted.length / options.charactersPerSlip)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    const other = normalise(candidate);
    if (Math.abs(other.length - wanted.length) >= bestDistance) continue;
    const distance = editDistance(wanted, other, options);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/** Compared without case, spaces, '-' and '_': "AzureServiceBus data-sender" is a misspelt "Azure Service Bus Data Sender". */
const squash = (s: string): string => s.toLowerCase().replace(/[\s_-]+/g, '');

/**
 * A name of identity.yaml (role, alias, key, variable) that `name` most likely means, compared as
 * squash does. About one typo per eight characters, at most three: "Sendr" finds "Sender", while a
 * custom role such as "Storage Blob Data Writer" is not taken for "Storage Blob Data Reader".
 */
export function closestManifestName(name: string, candidates: Iterable<string>): string | undefined {
  return closestName(name, candidates, { charactersPerSlip: 8, normalise: squash });
}

/** The words of a name: lower case, split at spaces, '-' and '_'. */
const wordsOf = (s: string): string[] =>
  s
    .toLowerCase()
    .split(/[\s_-]+/)
    .filter(Boolean);

/** Per-word slips: a plural either way is free; one typo in a word of four letters or more costs one; anything else is another word. */
function wordSlip(a: string, b: string): number | undefined {
  if (a === b || a.replace(/s$/, '') === b.replace(/s$/, '')) return 0;
  if (Math.min(a.length, b.length) < 4) return undefined;
  return editDistance(a, b, { swaps: true }) === 1 ? 1 : undefined;
}

/**
 * How far `wanted` is from `candidate` word by word: undefined unless every word but one at most
 * lines up (in any order) and at least two do; otherwise the words left over (a missing or an
 * extra one) and then the typos within words. A replaced word counts as both missing and extra,
 * so "Storage Blob Data Writer" is not "Storage Blob Data Reader".
 */
export function wordDistance(wanted: string, candidate: string): { unmatched: number; typos: number } | undefined {
  const mine = wordsOf(wanted);
  const theirs = wordsOf(candidate);
  const free = theirs.map(() => true);
  let typos = 0;
  let matched = 0;
  const left: string[] = [];
  // Exact (and plural) matches first, so a typo match never takes a word another one names exactly.
  for (const word of mine) {
    const i = theirs.findIndex((t, k) => free[k] && wordSlip(word, t) === 0);
    if (i >= 0) {
      free[i] = false;
      matched++;
    } else left.push(word);
  }
  for (const word of left) {
    const i = theirs.findIndex((t, k) => free[k] && wordSlip(word, t) === 1);
    if (i < 0) continue;
    free[i] = false;
    matched++;
    typos++;
  }
  const unmatched = mine.length - matched + free.filter(Boolean).length;
  if (matched < 2 || unmatched > 1) return undefined;
  return { unmatched, typos };
}

/**
 * The candidate `name` most likely means word by word (wordDistance): a missing or extra word
 * ("Azure Service Bus Sender" for "Azure Service Bus Data Sender"), a plural, a typo per word.
 * Undefined when none is that close, or when two are equally close ("Key Vault User").
 */
export function closestByWords(name: string, candidates: Iterable<string>): string | undefined {
  let best: { candidate: string; score: number } | undefined;
  let tie = false;
  for (const candidate of candidates) {
    const d = wordDistance(name, candidate);
    if (!d) continue;
    const score = d.unmatched * 10 + d.typos;
    if (!best || score < best.score) {
      best = { candidate, score };
      tie = false;
    } else if (score === best.score && best.candidate.toLowerCase() !== candidate.toLowerCase()) tie = true;
  }
  return best && !tie ? best.candidate : undefined;
}
