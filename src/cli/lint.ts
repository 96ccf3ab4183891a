import type { Command } from 'commander';
import { Option } from 'commander';
import { loadDesiredTree } from '../desired/load-desired.js';
import { lintRuleText, lintTree } from '../lint/index.js';
import { RULES } from '../lint/rules/index.js';
import { toSarif } from '../render/sarif.js';
import { formatDiagnostic } from '../render/text.js';

export function registerLint(program: Command): void {
  program
    .command('lint')
    .description(
      'Check a policies tree: every policy parses as APIM would, has the right sections, and avoids the misconfigurations that deploy fine and fail at runtime (audiences, roles, identities, JWT validation, secrets, CORS). Configure with apim-policy-lint.yaml; suppress with <!-- apim-policy-lint-disable rule-id -->.',
    )
    .option('--policies <dir>', 'policies tree (APIOps layout); required unless --list-rules')
    .option('--environment <name>', 'environment whose environments/<name>.yaml variables fill ${NAME} in identity.yaml')
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json', 'sarif']).default('text'))
    .option('--list-rules', 'print the rules (id, default severity, what each catches) and exit')
    .action(async (opts: { policies?: string; environment?: string; format: 'text' | 'json' | 'sarif'; listRules?: boolean }) => {
      if (opts.listRules) {
        for (const r of RULES) process.stdout.write(`${r.id.padEnd(34)} ${r.severity.padEnd(8)} ${r.description}\n`);
        return;
      }
      if (opts.policies === undefined) {
        program.commands.find((c) => c.name() === 'lint')?.error("error: required option '--policies <dir>' not specified", { code: 'commander.missingMandatoryOptionValue', exitCode: 2 });
        return;
      }
      const diagnostics = lintTree(await loadDesiredTree(opts.policies, { tokens: 'optional', ...(opts.environment ? { environment: opts.environment } : {}) }));
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      if (opts.format === 'json') {
        process.stdout.write(JSON.stringify({ diagnostics: diagnostics.map(({ severity, rule, file, line, column, message }) => ({ severity, rule, file, line, column, message })) }, null, 2) + '\n');
      } else if (opts.format === 'sarif') {
        process.stdout.write(JSON.stringify(toSarif(diagnostics, undefined, lintRuleText()), null, 2) + '\n');
      } else {
        for (const d of diagnostics) process.stdout.write(formatDiagnostic(d) + '\n');
        const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
        const infos = diagnostics.length - errors - warnings;
        process.stdout.write(diagnostics.length ? `${errors} error(s), ${warnings} warning(s), ${infos} info(s)\n` : `No problems in ${opts.policies}.\n`);
      }
      if (errors > 0) process.exitCode = 1;
    });
}
