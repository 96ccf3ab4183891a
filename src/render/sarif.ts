/**
 * Findings as SARIF 2.1.0, the subset GitHub code scanning reads
 * (`github/codeql-action/upload-sarif`): one run, a rule per finding kind, a result per finding
 * with its repository-relative file, line and column.
 */
import { isAbsolute, relative } from 'node:path';
import type { Diagnostic, Severity } from '../model/index.js';
import { TOOL_NAME, TOOL_VERSION } from '../version.js';

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

/** Rules that are not lint rules proper: loading, parsing, the manifest, the configuration, the plan's checks. */
const OTHER_RULES: Record<string, string> = {
  parse: 'The policy file is not a document API Management accepts.',
  layout: 'The file is not where the policies tree layout expects it.',
  'identity-manifest': 'identity.yaml is not a valid manifest.',
  'identity-variables': 'A ${VARIABLE} in identity.yaml cannot be resolved from the environment.',
  'lint-config': 'apim-policy-lint.yaml is not a valid lint configuration.',
};

/** A path relative to the repository (the workspace), as annotations and code scanning place files; unchanged without one. */
export function repoPath(file: string, workspace: string | undefined): string {
  if (!workspace || !isAbsolute(file)) return file.split('\\').join('/');
  const rel = relative(workspace, file);
  return (rel.startsWith('..') || isAbsolute(rel) ? file : rel).split('\\').join('/');
}

/**
 * `ruleText`: what each lint rule checks (lint's registry; the caller passes it, so render/ needs
 * no lint/); the loader's and the plan's own rule ids are described here.
 */
export function toSarif(diagnostics: Diagnostic[], workspace: string | undefined = process.env.GITHUB_WORKSPACE, ruleText: Record<string, string> = {}): object {
  const text: Record<string, string> = { ...OTHER_RULES, ...ruleText };
  const ruleIds = [...new Set(diagnostics.map((d) => d.rule))].sort();
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: TOOL_NAME,
            version: TOOL_VERSION,
            informationUri: 'https://github.com/apim-policy-deploy/apim-policy-deploy',
            rules: ruleIds.map((id) => ({
              id,
              name: id,
              shortDescription: { text: text[id] ?? `apim-policy-deploy check ${id}` },
            })),
          },
        },
        results: diagnostics.map((d) => ({
          ruleId: d.rule,
          ruleIndex: ruleIds.indexOf(d.rule),
          level: LEVEL[d.severity],
          message: { text: d.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: repoPath(d.file, workspace ?? process.cwd()), uriBaseId: '%SRCROOT%' },
                region: { startLine: Math.max(1, d.line), startColumn: Math.max(1, d.column) },
              },
            },
          ],
        })),
      },
    ],
  };
}
