#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerApply } from './cli/apply.js';
import { registerDemo } from './cli/demo.js';
import { registerDiff } from './cli/diff.js';
import { registerEffective } from './cli/effective.js';
import { registerEmulator } from './cli/emulator.js';
import { registerExtract } from './cli/extract.js';
import { CliError, printDiagnostics } from './cli/errors.js';
import { registerFmt } from './cli/fmt.js';
import { registerLint } from './cli/lint.js';
import { registerPlan } from './cli/plan.js';
import { registerRestore } from './cli/restore.js';
import { flagSettings } from './cli/target.js';
import { rejectUnknownOptions } from './cli/unknown-options.js';
import { settingWarnings } from './ci/settings.js';
import { githubIdToken } from './github/id-token.js';
import { TOOL_VERSION } from './version.js';

const program = new Command()
  .name('apim-policy')
  .description('Azure API Management policies as code: plan, apply and extract against live APIM over OIDC; lint, fmt and diff policy trees; a local emulator to try it on.')
  .version(TOOL_VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

// `apim-policy lint --list-rules | head`: a reader that stops early is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

// The OIDC ID token is GitHub's: in a workflow step, or beside the emulator (its env file).
const env = { idToken: githubIdToken() };
registerPlan(program, env);
registerApply(program, env);
registerRestore(program, env);
registerExtract(program, env);
registerLint(program);
registerFmt(program);
registerDiff(program);
registerEffective(program, env);
registerEmulator(program);
registerDemo(program);
// A setting that is most likely a mistake is said before anything else happens.
program.hook('preAction', (_, action) => {
  for (const w of settingWarnings(flagSettings(action.opts()))) process.stderr.write(`warning: ${w}\n`);
});

try {
  rejectUnknownOptions(program, process.argv);
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2;
  } else if (e instanceof CliError) {
    printDiagnostics(e.diagnostics);
    process.stderr.write(`error: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    if (process.env.APIM_POLICY_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    process.exitCode = 1;
  }
}
