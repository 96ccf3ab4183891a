/**
 * Files the tool writes that hold live content (plans, snapshots): readable by their owner only
 * (mode 0600), created exclusively, and never written through a symbolic link someone placed at
 * the path (in a shared temp folder, say), which could point the write at another file.
 */
import { randomBytes } from 'node:crypto';
import { lstat, mkdtemp, rename, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';

const PRIVATE = 0o600;

/** Why `path` cannot be written, in the user's words, or undefined when nothing is there. */
async function occupied(path: string, what: string): Promise<string | undefined> {
  const st = await lstat(path).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (!st) return undefined;
  if (st.isSymbolicLink()) return `${path} is a symbolic link; the ${what} is never written through one (it could point anywhere). Remove it or choose another path`;
  if (!st.isFile()) return `${path} exists and is not a regular file; choose another path for the ${what}`;
  return 'file';
}

/**
 * Creates `path` with `content`, mode 0600, failing when anything is there already: a file
 * (never overwritten), a symbolic link (never followed), anything else.
 */
export async function createPrivateFile(path: string, content: string, what: string): Promise<void> {
  try {
    await writeFile(path, content, { flag: 'wx', mode: PRIVATE });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const why = await occupied(path, what);
    throw new Error(why && why !== 'file' ? why : `${path} already exists; a ${what} is never overwritten. Choose another path or remove it`);
  }
}

/**
 * Writes `content` to `path` whole or not at all: into a new 0600 file beside it (created
 * exclusively), then renamed over it. A regular file there is replaced (its mode with it); a
 * symbolic link or anything else there is refused. The rename replaces the directory entry and
 * never follows a link, so a link placed there after the check is replaced, not written through;
 * and a reader (or a process killed mid-write) never sees half a file.
 */
export async function replacePrivateFile(path: string, content: string, what: string): Promise<void> {
  const why = await occupied(path, what);
  if (why && why !== 'file') throw new Error(why);
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  await writeFile(temp, content, { flag: 'wx', mode: PRIVATE });
  try {
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw e;
  }
}

/** A new folder only this user can enter (mode 0700), in the system's temp folder. */
export function privateTempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'apim-policy-'));
}
