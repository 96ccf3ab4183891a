/**
 * What may stand in one segment of an ARM resource ID, whether it comes from the tree
 * (identity.yaml scopes, user-assigned identity IDs, `allowed-scopes`) or from live (API,
 * operation, product, fragment and workspace ids, named value names). Such a segment ends up in a
 * URL or a file path, where `..` climbs, `/` and `\` split (a URL parser reads `\` as `/`), a
 * percent-encoded separator is decoded on the way (`%2F`, `%2E%2E`) and a control character ends
 * or hides text. None of these is a valid ARM name anywhere, so they are refused everywhere
 * rather than escaped: an id that needs them is a mistake or an attack.
 */

/** Why `segment` cannot be one segment of an ARM id, or undefined when it can. */
export function idSegmentProblem(segment: string): string | undefined {
  if (segment === '') return 'is empty';
  if (segment === '.' || segment === '..') return `is "${segment}", which a URL or a path reads as a folder`;
  if (/[/\\]/.test(segment)) return 'contains a path separator ("/" or "\\")';
  // Any percent-encoded byte: ARM names never contain "%XX", and a decoder on the way would turn "%2F" into "/" and "%2E%2E" into "..".
  if (/%[0-9a-f]{2}/i.test(segment)) return 'contains a percent-encoded character (%XX)';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
  if (/[\u0000-\u001f\u007f-\u009f]/.test(segment)) return 'contains a control character';
  return undefined;
}

/** The first problem of any of `segments`, naming the segment. */
export function idSegmentsProblem(segments: Iterable<string>): string | undefined {
  for (const s of segments) {
    const problem = idSegmentProblem(s);
    if (problem) return `segment ${showId(s)} ${problem}`;
  }
  return undefined;
}

/** An id as it may be shown in a message: quoted, with control characters escaped (so it can neither end a line nor hide text). */
export function showId(id: string): string {
  return JSON.stringify(id).replace(/[\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * The segments of an ARM id compared as ARM compares them (case-insensitively), or undefined when
 * the id is not one: it must start with "/", and no segment may be empty (one trailing "/" is
 * tolerated), ".", "..", or hold a separator, a percent-encoded byte or a control character.
 */
export function armIdSegments(id: string): string[] | undefined {
  const trimmed = id.endsWith('/') && id.length > 1 ? id.slice(0, -1) : id;
  if (!trimmed.startsWith('/')) return undefined;
  if (trimmed === '/') return []; // the tenant root: everything is below it
  const segments = trimmed.slice(1).split('/');
  return idSegmentsProblem(segments) === undefined ? segments.map((s) => s.toLowerCase()) : undefined;
}

/** `id` is `outer` or below it, comparing whole segments case-insensitively; never for an id that is not a valid ARM id. */
export function armIdWithin(id: string, outer: string): boolean {
  const s = armIdSegments(id);
  const o = armIdSegments(outer);
  if (!s || !o) return false;
  return o.length <= s.length && o.every((segment, i) => segment === s[i]);
}
