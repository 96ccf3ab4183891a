/** Every lint rule, in the order their findings are reported for one element. */
import type { Rule } from '../rule.js';
import { ENTITY_ACCESS_RULES } from './entity-access.js';
import { ENTITY_RULES } from './entities.js';
import { IDENTITY_RULES } from './identity.js';
import { POLICY_RULES } from './policies.js';
import { STRUCTURE_RULES } from './structure.js';

export const RULES: Rule[] = [...STRUCTURE_RULES, ...POLICY_RULES, ...ENTITY_RULES, ...IDENTITY_RULES, ...ENTITY_ACCESS_RULES];
