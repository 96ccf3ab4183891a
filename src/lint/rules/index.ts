/** Every lint rule, in the order their findings are reported for one element. */
import type { Rule } from '../rule.js';
import { STRUCTURE_RULES } from './structure.js';

export const RULES: Rule[] = [...STRUCTURE_RULES];
