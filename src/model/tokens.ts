/**
 * `{#TOKEN#}` placeholders (APIOps's token syntax) in named value and backend properties: each
 * stands for the environment variable `TOKEN`, replaced when plan or apply runs. The only place
 * the syntax is spelled.
 */

/** `{#NAME#}`: a name as environment variables spell them portably (letters, digits, `_`; not a digit first). */
const TOKEN = /\{#([A-Za-z_][A-Za-z0-9_]*)#\}/g;

/** The token names in `text`, in order of first use. */
export function tokensIn(text: string): string[] {
  return [...new Set([...text.matchAll(TOKEN)].map((m) => m[1]!))];
}

/** Every token name in the strings of a JSON value (keys are not looked at). */
export function tokensOf(value: unknown): string[] {
  const out = new Set<string>();
  const walk = (v: unknown): void => {
    if (typeof v === 'string') for (const t of tokensIn(v)) out.add(t);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(value);
  return [...out];
}

/** `text` with every token replaced by its value; `missing` names those `env` lacks (left as written). */
export function resolveTokens(text: string, env: Readonly<Record<string, string | undefined>>): { text: string; missing: string[] } {
  const missing: string[] = [];
  const out = text.replace(TOKEN, (whole, name: string) => {
    const value = env[name];
    if (value === undefined) {
      if (!missing.includes(name)) missing.push(name);
      return whole;
    }
    return value;
  });
  return { text: out, missing };
}

/** A JSON value with every string's tokens replaced (see resolveTokens); `missing` collects the names `env` lacks. */
export function resolveTokensDeep<T>(value: T, env: Readonly<Record<string, string | undefined>>, missing: string[] = []): T {
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const r = resolveTokens(v, env);
      for (const m of r.missing) if (!missing.includes(m)) missing.push(m);
      return r.text;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

/** Whether a string holds a token. */
export function hasToken(text: string): boolean {
  return tokensIn(text).length > 0;
}

/**
 * The token a secret named value gets when extract writes it: its id in capitals, with what a
 * variable name cannot hold made `_` (`orders-api-key` → `ORDERS_API_KEY`): how environment
 * variables and GitHub secrets are conventionally named (GitHub shows secret names in capitals).
 */
export function tokenForId(id: string): string {
  const name = id.replace(/[^A-Za-z0-9_]/g, '_').toUpperCase();
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** How a token is written. */
export const tokenText = (name: string) => `{#${name}#}`;
