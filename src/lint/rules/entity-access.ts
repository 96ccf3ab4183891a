/**
 * Named values against identity.yaml: the identity that fetches a Key Vault-backed named value
 * holds a role on its vault that reads secrets (model/entity-access.ts, which the plan runs too).
 */
import { checkEntityAccess, KEY_VAULT_ACCESS } from '../../model/entity-access.js';
import type { FileFinding, Rule } from '../rule.js';

const keyVaultAccess: Rule = {
  id: KEY_VAULT_ACCESS,
  severity: 'error',
  description: 'The identity that fetches a Key Vault-backed named value has a role on its vault in identity.yaml that reads secrets (Key Vault Secrets User, Secrets Officer or Administrator).',
  checkTree({ tree, manifest }) {
    if (!tree.entities) return [];
    return checkEntityAccess(tree.entities.resources.values(), manifest).map((d): FileFinding => ({ file: d.file, at: { line: d.line, column: d.column }, message: d.message }));
  },
};

export const ENTITY_ACCESS_RULES: Rule[] = [keyVaultAccess];
