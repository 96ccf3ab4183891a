import type { Diagnostic } from '../model/index.js';
import { formatDiagnostic } from '../render/text.js';

/** A failure the user can act on; the CLI prints the message (and diagnostics) and exits with `exitCode`. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
    readonly diagnostics: Diagnostic[] = [],
  ) {
    super(message);
  }
}

/** Stops on error-level diagnostics, naming each file and line. */
export function failOnErrors(diagnostics: Diagnostic[], what: string, exitCode = 1): void {
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length === 0) return;
  throw new CliError(`${what}: ${errors.length} error(s); nothing was planned or written`, exitCode, diagnostics);
}

/** The diagnostics already printed this run: a warning printed as the tree loaded is not printed again with the error that stops the run. */
const printed = new WeakSet<Diagnostic>();

/** Prints each diagnostic once per run (one printed before is skipped). */
export function printDiagnostics(diagnostics: Diagnostic[], stream: NodeJS.WritableStream = process.stderr): void {
  for (const d of diagnostics) {
    if (printed.has(d)) continue;
    printed.add(d);
    stream.write(formatDiagnostic(d) + '\n');
  }
}
