import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Plan } from '../model/index.js';
import { PLAN_FORMAT_VERSION } from '../model/index.js';
import { replacePrivateFile } from './private-file.js';

/**
 * Writes the plan readable by its owner only (0600): a new file renamed into place, so a plan file
 * already there is replaced whole, and a symbolic link there is refused, never written through.
 */
export async function writePlanFile(path: string, plan: Plan): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await replacePrivateFile(path, JSON.stringify(plan, null, 2) + '\n', 'plan file');
}

/** Reads a plan file, refusing one written by an incompatible version of the tool. */
export async function readPlanFile(path: string): Promise<Plan> {
  let data: unknown;
  try {
    data = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read plan file ${path}: ${(e as Error).message}`);
  }
  const plan = data as Partial<Plan>;
  if (plan.formatVersion !== PLAN_FORMAT_VERSION || !Array.isArray(plan.changes)) {
    throw new Error(`${path} is not a plan file of format version ${PLAN_FORMAT_VERSION}; make a new one with plan --out`);
  }
  return plan as Plan;
}
