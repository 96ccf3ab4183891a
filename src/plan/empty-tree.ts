/**
 * The wrong folder never deletes an instance: a tree with no policy to deploy while live has
 * some would plan "delete every one of them". The plan gets an error naming the folder (so it
 * fails and apply refuses it) and plans none of those deletes.
 */
import type { Change, Diagnostic } from '../model/index.js';
import type { PoliciesRoot } from '../model/policies-root.js';
import { didYouMean, rootProblem, WHAT_A_ROOT_HOLDS } from '../model/policies-root.js';
import { isPolicyKind } from '../model/kinds.js';

/** The problem and the deletes to leave out, or undefined when the tree has something to deploy or nothing is deleted. */
export function emptyTreeProblem(changes: Change[], deployable: number, root: PoliciesRoot): { problem: Diagnostic; dropped: Change[] } | undefined {
  const dropped = changes.filter((c) => c.action === 'delete' && isPolicyKind(c.resourceType));
  if (deployable > 0 || dropped.length === 0) return undefined;
  const problem = rootProblem(
    root.path,
    `${root.path} has no policy to deploy, while the instance has ${dropped.length} (policies and fragments): this plan would delete every one of them, so it is refused and none is planned for deletion. ` +
      `If ${root.path} is the wrong folder, point --policies (input policies-path) at ${WHAT_A_ROOT_HOLDS}${didYouMean(root.guess)}`,
  );
  return { problem, dropped };
}

export type { PoliciesRoot } from '../model/policies-root.js';
