/**
 * What the lint configuration (`apim-policy-lint.yaml`, loaded by desired/lint-config.ts) may say:
 * the rule ids and the level of each. The rules themselves live in lint/rules/; their ids are
 * listed here so that the loader can check a configuration without importing the rules
 * (__tests__/lint/runner.test.ts keeps the two lists equal).
 */

export const LINT_LEVELS = ['off', 'error', 'warning', 'info'] as const;
export type LintLevel = (typeof LINT_LEVELS)[number];

export interface LintConfig {
  levels: Map<string, LintLevel>;
}

/** The ids of lint/rules/index.ts's RULES, in its order (the order the configuration's messages list them in). */
export const LINT_RULE_IDS: readonly string[] = [
  'unknown-section',
  'duplicate-section',
  'missing-base',
  'unknown-element',
  'wrong-section',
  'jwt-no-audience',
  'openid-config-https',
  'missing-fragment',
  'plaintext-secret',
  'cors-wildcard-credentials',
  'double-escaped-expression',
  'managed-identity-resource',
  'managed-identity-client-id-expression',
  'managed-identity-audience',
  'cognitive-regional-endpoint',
  'identity-not-enabled',
  'missing-data-role',
  'role-scope-type',
  'unknown-role',
  'key-vault-access',
];

/** Findings APIM itself refuses (or that stop loading): no configuration can turn them off. */
export const MANDATORY_LINT_RULES: ReadonlySet<string> = new Set(['parse', 'layout', 'unknown-section', 'duplicate-section', 'identity-manifest', 'identity-variables', 'lint-config']);
