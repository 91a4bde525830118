// Atomic file writes: data goes to a temp file in the target's directory, is fsynced, then renamed over the
// target, so a reader (or a crash) sees the old file or the new one, never half of one. The temp file is
// removed on any failure.
import { closeSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  const fd = openSync(tmp, 'w');
  try {
    try {
      writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
}
