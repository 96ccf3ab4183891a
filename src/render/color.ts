/**
 * Whether output gets ANSI colour: the one place that decides, for every command.
 * - `FORCE_COLOR` (https://force-color.org): `0` or `false` → no colour; any other non-empty value →
 *   colour, even when piped and even with `NO_COLOR` set (the more specific wish wins).
 * - `NO_COLOR` (https://no-color.org): any non-empty value → no colour.
 * - Otherwise colour on a terminal only, and not on `TERM=dumb`.
 * Empty values count as unset, as both conventions say.
 */
export function colorWanted(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  const force = env.FORCE_COLOR?.trim();
  if (force) return !/^(0|false)$/i.test(force);
  if (env.NO_COLOR) return false;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}
