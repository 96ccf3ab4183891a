/**
 * The small OData `$filter` subset APIM lists document (e.g. `apimnamedvalues.json`: displayName
 * with `eq ne gt ge lt le` and `substringof contains startswith endswith`; tags with `any`).
 * Clauses may be joined with `and`. Anything else is refused (the emulator is the stricter side):
 * `compileFilter` returns an error message naming what it could not read.
 */

export interface FilterFields {
  /** Scalar string fields, e.g. `displayName`. */
  strings: string[];
  /** Fields holding string arrays, filtered with `tags/any(t: t eq 'x')`. */
  arrays?: string[];
}

type Row = Record<string, unknown>;
type Predicate = (row: Row) => boolean;

const LIT = `'((?:[^']|'')*)'`;
const unquote = (s: string) => s.replace(/''/g, "'");
const text = (v: unknown) => (typeof v === 'string' ? v.toLowerCase() : undefined);

function compare(op: string, a: string | undefined, b: string): boolean {
  if (a === undefined) return op === 'ne';
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    default:
      return a <= b;
  }
}

function clause(raw: string, fields: FilterFields): Predicate | string {
  const c = raw.trim();
  const field = (name: string) => fields.strings.find((f) => f.toLowerCase() === name.toLowerCase());
  let m: RegExpExecArray | null;
  if ((m = new RegExp(`^([A-Za-z]+)\\s+(eq|ne|gt|ge|lt|le)\\s+${LIT}$`, 'i').exec(c))) {
    const f = field(m[1]!);
    if (!f) return `field '${m[1]}' cannot be filtered (filterable: ${fields.strings.join(', ')})`;
    const op = m[2]!.toLowerCase();
    const lit = unquote(m[3]!).toLowerCase();
    return (row) => compare(op, text(row[f]), lit);
  }
  if ((m = new RegExp(`^(contains|startswith|endswith)\\(\\s*([A-Za-z]+)\\s*,\\s*${LIT}\\s*\\)$`, 'i').exec(c))) {
    const f = field(m[2]!);
    if (!f) return `field '${m[2]}' cannot be filtered (filterable: ${fields.strings.join(', ')})`;
    const fn = m[1]!.toLowerCase();
    const lit = unquote(m[3]!).toLowerCase();
    return (row) => {
      const v = text(row[f]);
      return v !== undefined && (fn === 'contains' ? v.includes(lit) : fn === 'startswith' ? v.startsWith(lit) : v.endsWith(lit));
    };
  }
  if ((m = new RegExp(`^substringof\\(\\s*${LIT}\\s*,\\s*([A-Za-z]+)\\s*\\)$`, 'i').exec(c))) {
    const f = field(m[2]!);
    if (!f) return `field '${m[2]}' cannot be filtered (filterable: ${fields.strings.join(', ')})`;
    const lit = unquote(m[1]!).toLowerCase();
    return (row) => text(row[f])?.includes(lit) ?? false;
  }
  if ((m = new RegExp(`^([A-Za-z]+)/any\\(\\s*([A-Za-z]\\w*)\\s*:\\s*([A-Za-z]\\w*)\\s+eq\\s+${LIT}\\s*\\)$`, 'i').exec(c))) {
    const f = (fields.arrays ?? []).find((a) => a.toLowerCase() === m![1]!.toLowerCase());
    if (!f) return `field '${m[1]}' is not a collection that can be filtered with any()`;
    if (m[2] !== m[3]) return `the lambda variable '${m[3]}' is not '${m[2]}'`;
    const lit = unquote(m[4]!).toLowerCase();
    return (row) => Array.isArray(row[f]) && (row[f] as unknown[]).some((t) => text(t) === lit);
  }
  return `cannot read the clause "${c}"`;
}

/** A predicate over rows (the entity's `properties`, plus `name`), or an error message. */
export function compileFilter(filter: string | undefined, fields: FilterFields): Predicate | string {
  if (filter === undefined || filter.trim() === '') return () => true;
  // Split on ` and ` outside quoted literals.
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < filter.length; i++) {
    const ch = filter[i];
    if (ch === "'") quoted = !quoted;
    else if (!quoted && ch === '(') depth += 1;
    else if (!quoted && ch === ')') depth -= 1;
    else if (!quoted && depth === 0 && /^\s+and\s+/i.test(filter.slice(i)) && /\s/.test(ch!)) {
      const m = /^\s+and\s+/i.exec(filter.slice(i))!;
      parts.push(filter.slice(start, i));
      i += m[0].length - 1;
      start = i + 1;
    }
  }
  parts.push(filter.slice(start));
  const preds: Predicate[] = [];
  for (const p of parts) {
    const pred = clause(p, fields);
    if (typeof pred === 'string') return `Invalid $filter '${filter}': ${pred}.`;
    preds.push(pred);
  }
  return (row) => preds.every((p) => p(row));
}
