import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { PolicySyntaxError, formatPolicy, parsePolicyDocument } from '../policy-xml/index.js';
import { CliError } from './errors.js';

async function policyFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await policyFilesUnder(p)));
    else if (e.name === 'policy.xml' || e.name.endsWith('.policy.xml')) out.push(p);
  }
  return out.sort();
}

function isFragmentPath(path: string): boolean {
  return /(^|[\\/])(policy fragments|policyFragments)[\\/]/.test(path);
}

export function registerFmt(program: Command): void {
  program
    .command('fmt')
    .description('Rewrite policy files in the canonical layout (like terraform fmt). Folders: every policy.xml below them.')
    .argument('<paths...>', 'policy files or folders')
    .option('--check', 'change nothing; list files that are not formatted and exit 1 if there are any')
    .action(async (paths: string[], opts: { check?: boolean }) => {
      const files: string[] = [];
      for (const p of paths) {
        let info;
        try {
          info = await stat(p);
        } catch {
          throw new CliError(`${p}: no such file or folder`, 2);
        }
        files.push(...(info.isDirectory() ? await policyFilesUnder(p) : [p]));
      }
      let unformatted = 0;
      let failed = 0;
      for (const file of files) {
        const text = await readFile(file, 'utf8');
        let formatted: string;
        try {
          formatted = formatPolicy(parsePolicyDocument(text, { file, expect: isFragmentPath(file) ? 'fragment' : 'any' }));
        } catch (e) {
          if (!(e instanceof PolicySyntaxError)) throw e;
          process.stderr.write(`${e.message}\n`);
          failed++;
          continue;
        }
        if (formatted === text) continue;
        unformatted++;
        if (opts.check) process.stdout.write(`${file}\n`);
        else {
          await writeFile(file, formatted);
          process.stdout.write(`formatted ${file}\n`);
        }
      }
      if (failed) throw new CliError(`${failed} file(s) could not be parsed and were left as they are`, 2);
      if (opts.check && unformatted) {
        process.stderr.write(`${unformatted} file(s) need formatting; run apim-policy fmt on them\n`);
        process.exitCode = 1;
      }
    });
}
