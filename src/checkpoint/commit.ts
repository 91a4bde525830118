// A checkpoint of several files as ONE atomic commit. Layout of a run directory RUN:
//   RUN/checkpoints/<step>.<pid>.<n>/   the files of one checkpoint, each written and fsynced, then the directory
//   RUN/current -> checkpoints/<...>    the commit point: a new symlink renamed over the old one (rename(2) is
//                                       atomic), then RUN is fsynced
//   RUN/<file> -> current/<file>        stable paths for readers and tools (model.safetensors, …); created once
// After a kill at any instant RUN/current names a complete checkpoint: the previous one or the new one.
// Directories that are not the current one (older checkpoints, a half-written one from a kill) are removed
// after the next commit. A directory without `current` is the old flat layout (files directly in RUN).
import { lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir, writeErrorMessage, writeFileDurable } from '../atomic_write.js';

export const CURRENT = 'current';
export const CHECKPOINTS_DIR = 'checkpoints';

let counter = 0;

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Atomically replaces (or creates) the symlink `path` → `target`. */
function swapSymlink(path: string, target: string, dir: string): void {
  const tmp = join(dir, `.${CURRENT}.${process.pid}.${counter++}.tmp`);
  try {
    symlinkSync(target, tmp);
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* not created */ }
    throw e;
  }
}

/** The directory holding `run`'s committed files: RUN/<target of current>, or RUN itself (flat layout). */
export function committedDir(run: string): string {
  const cur = join(run, CURRENT);
  if (!isSymlink(cur)) return run;
  return join(run, readlinkSync(cur));
}

/** true when `run` has a committed checkpoint in the new layout */
export function hasCommit(run: string): boolean {
  return isSymlink(join(run, CURRENT));
}

/**
 * Writes `files` (name → bytes) as one checkpoint of `run` and commits it atomically. `beforeCommit` runs
 * after every file is durable and right before the switch (the run-directory lock checks it still holds).
 * Returns the new checkpoint directory. On failure (full disk, …) nothing committed changes and the error
 * names the file that could not be written.
 */
export function commitFiles(
  run: string, step: number, files: Record<string, Uint8Array | string>,
  opts: { beforeCommit?: () => void; /** top-level names of older checkpoints that this one no longer has */ obsolete?: string[] } = {},
): string {
  mkdirSync(join(run, CHECKPOINTS_DIR), { recursive: true });
  const name = `${String(step).padStart(8, '0')}.${process.pid}.${Date.now()}.${counter++}`;
  const rel = join(CHECKPOINTS_DIR, name);
  const dir = join(run, rel);
  try {
    mkdirSync(dir);
    for (const [file, bytes] of Object.entries(files)) {
      const p = join(dir, file);
      try {
        writeFileDurable(p, bytes, 'wx');
      } catch (e) {
        throw new Error(writeErrorMessage(p, e) + `; the previous checkpoint in '${run}' is unchanged`, { cause: e });
      }
    }
    fsyncDir(dir);
    fsyncDir(join(run, CHECKPOINTS_DIR));
    opts.beforeCommit?.();
    swapSymlink(join(run, CURRENT), rel, run);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  // stable names: RUN/<file> → current/<file> (replaces a flat-layout file of the old format)
  for (const file of Object.keys(files)) {
    const p = join(run, file);
    const want = join(CURRENT, file);
    if (isSymlink(p) && readlinkSync(p) === want) continue;
    swapSymlink(p, want, run);
  }
  for (const file of opts.obsolete ?? []) if (!(file in files)) rmSync(join(run, file), { force: true });
  fsyncDir(run);
  // garbage: every checkpoint directory but the current one
  for (const d of readdirSync(join(run, CHECKPOINTS_DIR))) {
    if (d !== name) rmSync(join(run, CHECKPOINTS_DIR, d), { recursive: true, force: true });
  }
  return dir;
}
