import type { Command } from 'commander';
import { Option } from 'commander';
import { loadDesiredTree } from '../desired/load-desired.js';
import { lintTree } from '../lint/index.js';
import { formatDiagnostic } from '../render/text.js';

export function registerLint(program: Command): void {
  program
    .command('lint')
    .description('Check every policy in a tree: it parses as APIM would, and has the right root and sections.')
    .requiredOption('--policies <dir>', 'policies tree (APIOps layout)')
    .option('--environment <name>', 'environment whose environments/<name>.yaml variables fill ${NAME} in identity.yaml')
    .addOption(new Option('--format <format>', 'output').choices(['text', 'json']).default('text'))
    .action(async (opts: { policies: string; environment?: string; format: 'text' | 'json' }) => {
      const diagnostics = lintTree(await loadDesiredTree(opts.policies, opts.environment ? { environment: opts.environment } : {}));
      const errors = diagnostics.filter((d) => d.severity === 'error').length;
      if (opts.format === 'json') {
        process.stdout.write(JSON.stringify({ diagnostics: diagnostics.map(({ severity, rule, file, line, column, message }) => ({ severity, rule, file, line, column, message })) }, null, 2) + '\n');
      } else {
        for (const d of diagnostics) process.stdout.write(formatDiagnostic(d) + '\n');
        const warnings = diagnostics.length - errors;
        process.stdout.write(diagnostics.length ? `${errors} error(s), ${warnings} warning(s)\n` : `No problems in ${opts.policies}.\n`);
      }
      if (errors > 0) process.exitCode = 1;
    });
}
