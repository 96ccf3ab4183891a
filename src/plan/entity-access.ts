/**
 * Plan-side checks of named values and backends against the identities that use them: Key Vault
 * access of Key Vault-backed named values (against identity.yaml) and their last refresh status
 * live. The checks live in model/entity-access.ts so that lint (which may not import plan/) runs
 * the same code; this is the plan's entry point.
 */
export { checkEntityAccess, keyVaultStatusProblems, KEY_VAULT_ACCESS, KEY_VAULT_STATUS, type EntityAccessOptions } from '../model/entity-access.js';
