/** XML's five predefined entities; policies have no DTD, so there are no others. */
export const NAMED_ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

/** One entity or character reference; groups: name, decimal, hex. Sticky: set `lastIndex` first. */
export const REFERENCE = /&(?:(lt|gt|amp|apos|quot)|#([0-9]{1,8})|#x([0-9a-fA-F]{1,7}));/y;

/** The character a matched reference stands for, or undefined for a code point Unicode lacks. */
export function referencedChar(name: string | undefined, dec: string | undefined, hex: string | undefined): string | undefined {
  if (name) return NAMED_ENTITIES[name];
  const code = parseInt((dec ?? hex)!, dec ? 10 : 16);
  return code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
}

/** Decodes the five predefined XML entities and numeric character references (others stay as written). */
export function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(new RegExp(REFERENCE.source, 'g'), (m, name?: string, dec?: string, hex?: string) => referencedChar(name, dec, hex) ?? m);
}
