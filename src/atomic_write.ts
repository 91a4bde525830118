// Atomic file writes: data goes to a temp file in the target's directory, every byte is written (short
// writes are continued, a write that makes no progress is an error), the file is fsynced and closed, and
// only then renamed over the target; the directory is fsynced so the rename itself survives a power cut.
// A reader (or a crash) sees the old file or the new one, never half of one. On any failure (a full disk
// is the common one) the temp file is removed, the target is left as it was, and the Error says which
// file could not be written and why (ENOSPC: "the disk is full").
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** Error message for a failed write of `path`, naming the usual causes in words. */
export function writeErrorMessage(path: string, e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  const why = code === 'ENOSPC' ? 'the disk is full (ENOSPC)'
    : code === 'EDQUOT' ? 'the disk quota is exhausted (EDQUOT)'
      : code === 'EROFS' ? 'the file system is read-only (EROFS)'
        : code === 'EACCES' || code === 'EPERM' ? `permission denied (${code})`
          : (e as Error).message;
  return `cannot write '${path}': ${why}`;
}

/** Writes all of `bytes` to fd; throws when the OS accepts nothing (a full disk reports ENOSPC itself). */
export function writeAll(fd: number, bytes: Uint8Array): void {
  let done = 0;
  while (done < bytes.length) {
    const n = writeSync(fd, bytes, done, bytes.length - done);
    if (!(n > 0)) {
      throw Object.assign(new Error(`short write: ${done} of ${bytes.length} bytes written, then ${n}`), { code: 'ENOSPC' });
    }
    done += n;
  }
}

/** fsyncs a directory (makes renames and creations in it durable); best effort where unsupported. */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch {
    /* some file systems cannot fsync a directory */
  } finally {
    closeSync(fd);
  }
}

/** Writes `bytes` to `path` (open flags `flags`) and fsyncs it: durable, not atomic (see writeFileAtomic). */
export function writeFileDurable(path: string, bytes: Uint8Array | string, flags = 'w'): void {
  const data = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  const fd = openSync(path, flags);
  try {
    writeAll(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

let tmpCounter = 0;

export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.${tmpCounter++}.tmp`);
  try {
    writeFileDurable(tmp, bytes, 'wx');
    renameSync(tmp, path);
    fsyncDir(dirname(path));
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw new Error(writeErrorMessage(path, e), { cause: e });
  }
}
