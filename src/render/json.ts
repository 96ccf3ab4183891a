import type { Plan } from '../model/index.js';

/** Machine-readable plan: the plan file itself (`summary`, `changes`, `problems`, …). */
export function renderJson(plan: Plan): string {
  return JSON.stringify(plan, null, 2) + '\n';
}
