/**
 * The words both checks of the policies folder use: the loader's (a tree whose files are all
 * misplaced, desired/root-guess.ts) and the planner's (a tree with nothing to deploy, plan/empty-tree.ts).
 */
import type { Diagnostic } from './index.js';

export const ROOT_RULE = 'policies-root';
export const WHAT_A_ROOT_HOLDS = 'the folder that holds policy.xml, apis/, products/ and policy fragments/';

export const didYouMean = (guess: string | undefined) => (guess ? `; did you mean \`${guess}\`?` : '.');

export function rootProblem(root: string, message: string): Diagnostic {
  return { severity: 'error', rule: ROOT_RULE, file: root, line: 1, column: 1, message };
}

/** The folder as the user named it, and the folder that would place its files, when the loader found one. */
export interface PoliciesRoot {
  path: string;
  guess?: string;
}
