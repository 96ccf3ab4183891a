/**
 * The one way the tool reads a file it is pointed at (policy files, identity.yaml, environments,
 * the lint configuration, *Information.json, and — through readLocalFile — plan and snapshot
 * files): looked at with lstat/stat first, then read through one descriptor, never more than the
 * limit. What it refuses, with the file named and what to do:
 *
 * - a symbolic link that leads outside the tree (`root`): the tree is what was reviewed, and a
 *   link to `/etc/passwd` or `/dev/zero` must neither be read nor have its content quoted;
 * - anything but a regular file (a FIFO would block the read forever, a device such as
 *   /dev/zero never ends, a socket or folder is no file);
 * - a file over the limit (a 3 GB file is refused from its size, never read whole).
 *
 * The checks are repeated on the open descriptor (fstat), so a file swapped between the check
 * and the read is refused too; the open is non-blocking, so a FIFO swapped in cannot hang it.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { sep } from 'node:path';

export class FileRefusedError extends Error {
  constructor(
    /** The file as shown to the user. */
    readonly file: string,
    /** What is wrong and what to do, without the file name. */
    readonly reason: string,
  ) {
    super(`${file}: ${reason}`);
  }
}

export interface ReadTreeFileOptions {
  /** The tree the file belongs to: after following symbolic links it must still be inside. Absent: no tree (a plan file, a snapshot). */
  root?: string;
  /** The most bytes read; a larger file is refused from its size. */
  maxBytes: number;
  /** The file as messages show it (default: `path`). */
  label?: string;
  /** What kind of file this is, for the size message ("policy files", "identity.yaml"). */
  what?: string;
  /** Undefined instead of an error when the file does not exist. */
  missingOk?: boolean;
  /**
   * The path comes from a walk of `root` that does not enter symbolically linked folders, so no
   * folder on its way leads out: only a link at the path itself is resolved (saves a realpath per
   * file of a large tree).
   */
  walked?: boolean;
}

function kindOf(s: Stats): string {
  if (s.isDirectory()) return 'a folder';
  if (s.isFIFO()) return 'a FIFO (named pipe)';
  if (s.isCharacterDevice()) return 'a character device';
  if (s.isBlockDevice()) return 'a block device';
  if (s.isSocket()) return 'a socket';
  if (s.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

const sizeWords = (bytes: number): string => (bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MiB` : bytes >= 1024 ? `${(bytes / 1024).toFixed(1)} KiB` : `${bytes} bytes`);

/** `path` is `root` or below it (both real paths). */
export function isInside(realRoot: string, realPath: string): boolean {
  return realPath === realRoot || realPath.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep);
}

/**
 * Where a symbolic link in a tree leads, or why it may not be followed: outside the tree, or
 * nowhere. Never reads the target.
 */
export function symlinkProblem(path: string, realRoot: string): { real?: string; problem?: string } {
  let real: string;
  try {
    real = realpathSync.native(path);
  } catch {
    return { problem: 'is a symbolic link that leads nowhere (its target does not exist); remove it or point it at a file inside the tree' };
  }
  if (!isInside(realRoot, real)) {
    return { problem: `is a symbolic link that leads outside the tree (${realRoot}); only files inside the tree are read — copy the file into the tree instead of linking it` };
  }
  return { real };
}

/** stat, or undefined when it fails. */
export function statSyncOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

const realRoots = new Map<string, string>();
function realRootOf(root: string): string {
  let real = realRoots.get(root);
  if (real === undefined) {
    real = realpathSync.native(root);
    realRoots.set(root, real);
  }
  return real;
}

/**
 * Reads a file of a tree (or, without `root`, any file) as described above. Returns undefined
 * only for a missing file with `missingOk`; every refusal is a FileRefusedError naming the file.
 */
export function readTreeFile(path: string, options: ReadTreeFileOptions): Buffer | undefined {
  const label = options.label ?? path;
  const what = options.what ?? 'this file';
  const refuse = (reason: string) => new FileRefusedError(label, reason);
  let link: Stats;
  try {
    link = lstatSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === 'ENOENT' || code === 'ENOTDIR') && options.missingOk) return undefined;
    throw refuse(code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (e as Error).message})`);
  }
  let target = path;
  if (link.isSymbolicLink()) {
    if (options.root !== undefined) {
      const { real, problem } = symlinkProblem(path, realRootOf(options.root));
      if (problem) throw refuse(problem);
      target = real!;
    }
  } else if (options.root !== undefined && !options.walked && !isInside(realRootOf(options.root), realpathSync.native(path))) {
    // A folder on the way is a symbolic link out of the tree.
    throw refuse(`leads outside the tree (${realRootOf(options.root)}) through a symbolically linked folder; only files inside the tree are read`);
  }
  const check = (s: Stats) => {
    if (!s.isFile()) throw refuse(`is ${kindOf(s)}, not a regular file; only regular files are read — replace it with the file itself`);
    if (s.size > options.maxBytes) throw refuse(`is ${sizeWords(s.size)}, over the ${sizeWords(options.maxBytes)} limit for ${what}; it was not read`);
  };
  check(link.isSymbolicLink() ? statSync(target) : link);
  let fd: number;
  try {
    fd = openSync(target, constants.O_RDONLY | constants.O_NONBLOCK | (link.isSymbolicLink() ? 0 : constants.O_NOFOLLOW));
  } catch (e) {
    throw refuse(`cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    const opened = fstatSync(fd);
    check(opened);
    const buffer = Buffer.alloc(Math.min(options.maxBytes + 1, opened.size + 1));
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      if (n === 0) break;
      length += n;
      if (length === buffer.length) {
        if (length > options.maxBytes) throw refuse(`grew over the ${sizeWords(options.maxBytes)} limit for ${what} while it was read`);
        break;
      }
    }
    return buffer.subarray(0, length);
  } finally {
    closeSync(fd);
  }
}

/** readTreeFile as UTF-8 text. */
export function readTreeText(path: string, options: ReadTreeFileOptions): string | undefined {
  return readTreeFile(path, options)?.toString('utf8');
}

/** For files outside a tree (plan files, snapshots): the same checks, no tree boundary. */
export function readLocalFile(path: string, options: Omit<ReadTreeFileOptions, 'root'>): Buffer | undefined {
  return readTreeFile(path, options);
}

/** Limits of the files the tool reads (bytes). */
export const FILE_LIMITS = {
  /** APIM accepts 256 KiB; four times that is surely not a policy (its parse error would say more than a size). */
  policy: 1024 * 1024,
  /** identity.yaml, environments/*.yaml, apim-policy-lint.yaml, *Information.json. */
  config: 1024 * 1024,
  /** Plan and snapshot files: thousands of policies with their diffs, far below what a JSON parse can hold. */
  plan: 256 * 1024 * 1024,
} as const;
