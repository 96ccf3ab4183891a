import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { idSegmentsProblem, showId } from '../model/arm-id.js';
import type { Change, Plan } from '../model/index.js';
import { PLAN_FORMAT_VERSION } from '../model/index.js';
import { FILE_LIMITS, readLocalFile } from '../desired/safe-file.js';
import { integrityRefusal, toolMismatch } from '../plan/integrity.js';
import { replacePrivateFile } from '../plan/private-file.js';

/**
 * Writes the plan readable by its owner only (0600): a new file renamed into place, so a plan file
 * already there is replaced whole, and a symbolic link there is refused, never written through.
 */
export async function writePlanFile(path: string, plan: Plan): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await replacePrivateFile(path, JSON.stringify(plan, null, 2) + '\n', 'plan file');
}

/**
 * Reads a plan file, refusing (before any Azure call) one of another format or another tool
 * version, or one edited since plan wrote it (integrity.ts); apply checks it again before it writes.
 */
export async function readPlanFile(path: string): Promise<Plan> {
  let data: unknown;
  try {
    // A regular file of sane size only: a FIFO or /dev/zero given as --plan must not hang or fill memory.
    data = JSON.parse(readLocalFile(path, { maxBytes: FILE_LIMITS.plan, what: 'plan files' })!.toString('utf8'));
  } catch (e) {
    throw new Error(`cannot read plan file ${path}: ${(e as Error).message}`);
  }
  const plan = (data ?? {}) as Partial<Plan>;
  if (typeof plan !== 'object' || !Array.isArray(plan.changes) || typeof plan.formatVersion !== 'number') {
    throw new Error(`${path} is not a plan file; make one with plan --out`);
  }
  if (plan.formatVersion !== PLAN_FORMAT_VERSION) {
    const older = plan.formatVersion < PLAN_FORMAT_VERSION ? ', made by an earlier version without the hashes apply now checks' : '';
    throw new Error(
      `${path} is a plan file of format version ${plan.formatVersion}${older}; this tool applies format ${PLAN_FORMAT_VERSION}: plan again with this version (plan --out) and apply that plan`,
    );
  }
  for (const c of plan.changes as Array<Partial<Change>>) {
    // Addresses become ARM URLs: one that could climb (`apis/..`) is refused however the hashes read.
    const problem = typeof c?.address === 'string' ? idSegmentsProblem(c.address.split('/')) : 'is missing';
    if (problem) throw new Error(`${path}: a change's address ${typeof c?.address === 'string' ? showId(c.address) + ' ' : ''}${problem}; this is not a plan apim-policy wrote`);
  }
  const tool = toolMismatch(plan as Plan);
  if (tool) throw new Error(`${path}: ${tool}`);
  // Checked here too, so an edited plan stops before any Azure call (apply checks again before it writes).
  const tampered = integrityRefusal(plan as Plan);
  if (tampered) throw new Error(`${path}: ${tampered.message}`);
  return plan as Plan;
}

/** Which plan this is, in one line: a reviewer compares it with the plan job's summary. */
export function savedPlanLine(plan: Plan): string {
  const commit = plan.commit ? ` for commit ${plan.commit.slice(0, 12)}` : '';
  return `Plan ${plan.integrity?.slice(0, 16) ?? '(unsealed)'}, made ${plan.createdAt}${commit} by ${plan.tool.name} ${plan.tool.version}`;
}
