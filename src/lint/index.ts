import type { LoadedTree } from '../desired/load-tree.js';
import type { Diagnostic } from '../model/index.js';
import { checkSections } from './structure.js';

const ORDER = { error: 0, warning: 1, info: 2 } as const;

/** Every finding for a loaded tree: load/parse problems first, then the rules, sorted by file and line. */
export function lintTree(tree: LoadedTree): Diagnostic[] {
  const found = [...tree.diagnostics];
  for (const doc of tree.documents.values()) found.push(...checkSections(doc));
  return found.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.column - b.column || ORDER[a.severity] - ORDER[b.severity]);
}
