import { constants } from 'node:fs';
import { lstat, open, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { FILE_LIMITS, FileRefusedError, readTreeText } from '../desired/safe-file.js';
import { PolicySyntaxError, formatPolicy, parsePolicyDocument } from '../policy-xml/index.js';
import { CliError } from './errors.js';

/** A policy file and the tree (the folder named on the command line) it must stay inside. */
interface Found {
  file: string;
  root: string;
}

/** Policy files below `dir`; a symbolic link to a folder is not followed, and is reported (its files are not formatted). */
async function policyFilesUnder(dir: string, root: string, refused: string[]): Promise<Found[]> {
  const out: Found[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await policyFilesUnder(p, root, refused)));
    else if (e.isSymbolicLink() && (await stat(p).catch(() => undefined))?.isDirectory()) {
      refused.push(`${p}: is a symbolic link to a folder; fmt does not follow it (it never writes through a symbolic link) — run fmt on the folder itself`);
    } else if (e.name === 'policy.xml' || e.name.endsWith('.policy.xml')) out.push({ file: p, root });
  }
  return out.sort((a, b) => a.file.localeCompare(b.file));
}

function isFragmentPath(path: string): boolean {
  return /(^|[\\/])(policy fragments|policyFragments)[\\/]/.test(path);
}

/** Rewrites the file in place; never through a symbolic link (O_NOFOLLOW), never creating one. */
async function rewrite(file: string, text: string): Promise<void> {
  const handle = await open(file, constants.O_WRONLY | constants.O_TRUNC | constants.O_NOFOLLOW);
  try {
    await handle.writeFile(text);
  } finally {
    await handle.close();
  }
}

export function registerFmt(program: Command): void {
  program
    .command('fmt')
    .description('Rewrite policy files in the canonical layout (like terraform fmt). Folders: every policy.xml below them.')
    .argument('<paths...>', 'policy files or folders')
    .option('--check', 'change nothing; list files that are not formatted and exit 1 if there are any')
    .action(async (paths: string[], opts: { check?: boolean }) => {
      const files: Found[] = [];
      const refused: string[] = [];
      for (const p of paths) {
        let info;
        try {
          info = await stat(p);
        } catch {
          throw new CliError(`${p}: no such file or folder`, 2);
        }
        // A file named on its own: its folder is its tree (a link out of it is refused as in a tree).
        files.push(...(info.isDirectory() ? await policyFilesUnder(p, p, refused) : [{ file: p, root: dirname(p) }]));
      }
      for (const r of refused) process.stderr.write(`${r}\n`);
      let unformatted = 0;
      let failed = refused.length;
      for (const { file, root } of files) {
        let text: string;
        let formatted: string;
        try {
          text = readTreeText(file, { root, maxBytes: FILE_LIMITS.policy, label: file, what: 'policy files (APIM accepts policy documents up to 256 KiB)' })!;
          formatted = formatPolicy(parsePolicyDocument(text, { file, expect: isFragmentPath(file) ? 'fragment' : 'any' }));
        } catch (e) {
          if (!(e instanceof PolicySyntaxError) && !(e instanceof FileRefusedError)) throw e;
          process.stderr.write(`${e.message}\n`);
          failed++;
          continue;
        }
        if (formatted === text) continue;
        unformatted++;
        if (opts.check) process.stdout.write(`${file}\n`);
        else if ((await lstat(file)).isSymbolicLink()) {
          process.stderr.write(`${file}: is a symbolic link; fmt never writes through one — run fmt on the file it points to\n`);
          failed++;
        } else {
          await rewrite(file, formatted);
          process.stdout.write(`formatted ${file}\n`);
        }
      }
      if (failed) throw new CliError(`${failed} file(s) could not be formatted and were left as they are`, 2);
      if (opts.check && unformatted) {
        process.stderr.write(`${unformatted} file(s) need formatting; run apim-policy fmt on them\n`);
        process.exitCode = 1;
      }
    });
}
