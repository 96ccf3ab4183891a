/**
 * Walks over a parsed policy document shared by lint, plan and the scoped read: every element
 * with the elements around it, the literal value of an attribute or text, and the fragments a
 * document includes.
 */
import type { Segment, XmlElement } from './document.js';
import { segmentValue } from './print.js';

export interface ElementVisit {
  element: XmlElement;
  /** Enclosing elements, outermost first (the root included). */
  ancestors: XmlElement[];
}

/**
 * Every element under (and including) `root`, depth first, with its ancestors. Siblings share
 * their ancestors array: do not change it.
 */
export function walkElements(root: XmlElement): ElementVisit[] {
  const out: ElementVisit[] = [];
  const walk = (element: XmlElement, ancestors: XmlElement[]): void => {
    out.push({ element, ancestors });
    const inner = [...ancestors, element];
    for (const child of element.children) if (child.type === 'element') walk(child, inner);
  };
  walk(root, []);
  return out;
}

/** The value of literal segments; undefined when any of them is a policy expression. */
export function literalValue(segments: Segment[]): string | undefined {
  return segments.every((s) => !s.expression) ? segmentValue(segments) : undefined;
}

/** The literal value of an attribute; undefined when absent or when it holds a policy expression. */
export function literalAttribute(element: XmlElement, name: string): string | undefined {
  const attribute = element.attributes.find((a) => a.name === name);
  return attribute ? literalValue(attribute.segments) : undefined;
}

export interface FragmentInclude {
  /** The `fragment-id`, when it is a literal (an expression names no fragment that can be checked). */
  fragmentId: string;
  element: XmlElement;
}

/** The `include-fragment` elements under `root` whose `fragment-id` is literal, in document order. */
export function includedFragments(root: XmlElement): FragmentInclude[] {
  const out: FragmentInclude[] = [];
  for (const { element } of walkElements(root)) {
    if (element.name !== 'include-fragment') continue;
    const fragmentId = literalAttribute(element, 'fragment-id');
    if (fragmentId !== undefined) out.push({ fragmentId, element });
  }
  return out;
}
