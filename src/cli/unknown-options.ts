/**
 * Unknown flags are named before anything else, with the closest known flag: commander checks
 * required options first, so `plan --polices x` would otherwise say "required option --policies
 * not specified" and never mention the typo.
 */
import type { Command } from 'commander';
import { closestName } from '../model/closest-name.js';

/** Throws commander's own unknown-option error (with "Did you mean …?") for the first flag `argv` gives that its command does not know. */
export function rejectUnknownOptions(program: Command, argv: string[]): void {
  const args = argv.slice(2);
  const cmd = program.commands.find((c) => c.name() === args[0] || c.aliases().includes(args[0] ?? ''));
  if (!cmd) return;
  const known = new Map<string, boolean>();
  for (const o of cmd.options) {
    const takesValue = o.required || o.optional;
    if (o.long) known.set(o.long, takesValue);
    if (o.short) known.set(o.short, takesValue);
  }
  known.set('--help', false).set('-h', false);
  for (let i = 1; i < args.length; i += 1) {
    const token = args[i]!;
    if (token === '--') return;
    if (!token.startsWith('--')) continue;
    const flag = token.includes('=') ? token.slice(0, token.indexOf('=')) : token;
    if (known.has(flag)) {
      if (known.get(flag) && !token.includes('=')) i += 1;
      continue;
    }
    const guess = closestName(
      flag,
      [...known.keys()].filter((k) => k.startsWith('--')),
      { charactersPerSlip: 4, swaps: true },
    );
    cmd.error(`error: unknown option '${flag}'${guess ? `\n(Did you mean ${guess}?)` : ''}`, { code: 'commander.unknownOption', exitCode: 2 });
  }
}
