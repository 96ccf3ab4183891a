/**
 * A progress line for long runs (`read 312/1061`) on stderr: rewritten in place on a terminal,
 * one line every few seconds in a CI log; nothing at all for runs that finish within a second.
 */
export interface Progress {
  update(done: number, total: number): void;
  finish(): void;
}

export function createProgress(label: string, stream: NodeJS.WriteStream = process.stderr, quietMs = 1000): Progress {
  const start = Date.now();
  const tty = stream.isTTY === true;
  let last = 0;
  let shown = false;
  let latest = '';
  return {
    update(done, total) {
      latest = `${label} ${done}/${total}`;
      const now = Date.now();
      if (now - start < quietMs) return;
      if (tty && now - last >= 100) {
        stream.write(`\r${latest}\u001b[K`);
        last = now;
        shown = true;
      } else if (!tty && now - last >= 3000) {
        stream.write(`${latest}\n`);
        last = now;
        shown = true;
      }
    },
    finish() {
      if (shown) stream.write(tty ? `\r${latest}\u001b[K\n` : `${latest}\n`);
      shown = false;
    },
  };
}
