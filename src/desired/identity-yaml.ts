/**
 * YAML with positions, for identity.yaml and the environment files: parse, find a node, and say
 * where it is, so that every problem is a diagnostic at the line and column to change.
 */
import { LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Alias, type Document, type Node, type Scalar } from 'yaml';
import type { Diagnostic } from '../model/index.js';
import type { ManifestLocation } from '../model/identity.js';

/** The rule of problems in identity.yaml, and of those in the environment files' variables. */
export const MANIFEST_RULE = 'identity-manifest';
export const VARIABLES_RULE = 'identity-variables';

export interface YamlFile {
  shown: string;
  text: string;
  doc: Document.Parsed;
  lines: LineCounter;
}

export function locationAt(f: YamlFile, offset: number): ManifestLocation {
  const { line, col } = f.lines.linePos(offset);
  return { file: f.shown, line, column: col };
}

export function locationOf(f: YamlFile, node: unknown): ManifestLocation {
  return locationAt(f, (node as Node | undefined)?.range?.[0] ?? 0);
}

/** An error (by default of identity.yaml) at a position. */
export function diagnosticAt(at: ManifestLocation, message: string, rule = MANIFEST_RULE): Diagnostic {
  return { severity: 'error', rule, file: at.file, line: at.line, column: at.column, message };
}

/**
 * A YAML parser's error in our words: the parser's own stack overflow on absurd nesting
 * ("Maximum call stack size exceeded") is said as what it is.
 */
export function yamlErrorMessage(e: { code: string; message: string }): string {
  if (e.code === 'MULTIPLE_DOCS') return 'the file holds more than one YAML document (---); keep one';
  if (/Maximum call stack size exceeded/i.test(e.message)) return 'nested too deeply to read (thousands of levels of [ or {); these files need a few levels — is the file cut or generated wrongly?';
  return e.message.split('\n')[0]!;
}

/**
 * A parser's errors in our words, each with its offset; the stack overflow, which the parser
 * repeats at every level it unwinds, once.
 */
export function yamlErrors(errors: ReadonlyArray<{ code: string; message: string; pos: [number, number] }>): Array<{ offset: number; message: string }> {
  const out: Array<{ offset: number; message: string }> = [];
  for (const e of errors) {
    const message = yamlErrorMessage(e);
    if (/nested too deeply/.test(message) && out.some((o) => o.message === message)) continue;
    out.push({ offset: e.pos[0], message });
  }
  return out;
}

/** Parses one YAML file; syntax errors are reported and give undefined. */
export function parseYaml(shown: string, text: string, rule: string, diagnostics: Diagnostic[]): YamlFile | undefined {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const f: YamlFile = { shown, text, doc, lines };
  for (const w of doc.warnings) diagnostics.push({ ...diagnosticAt(locationAt(f, w.pos[0]), w.message, rule), severity: 'warning' });
  for (const e of yamlErrors(doc.errors)) diagnostics.push(diagnosticAt(locationAt(f, e.offset), `not valid YAML: ${e.message}`, rule));
  return doc.errors.length ? undefined : f;
}

export const keyText = (key: unknown): string => String(isScalar(key) ? key.value : key);

/** The node itself, or the one an alias (`*name`) stands for. */
export function deref(f: YamlFile, node: unknown): Node | undefined {
  return (isAlias(node) ? node.resolve(f.doc) : node) as Node | undefined;
}

/** The key and value nodes of `key` in a YAML map (undefined when `node` is not a map or has no such key). */
export function entry(f: YamlFile, node: unknown, key: string): { key?: Node; value?: Node } {
  const pair = isMap(node) ? node.items.find((p) => keyText(p.key) === key) : undefined;
  return { key: pair?.key as Node | undefined, value: deref(f, pair?.value) };
}

/** Every value node under `node`. Map keys are not values: no variables there. */
export function* valueNodes(node: unknown): Generator<Scalar | Alias> {
  if (isScalar(node) || isAlias(node)) yield node;
  else if (isMap(node)) for (const pair of node.items) yield* valueNodes(pair.value);
  else if (isSeq(node)) for (const item of node.items) yield* valueNodes(item);
}
