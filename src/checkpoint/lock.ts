// The run-directory lock: one writer per run directory. RUN/lock holds the holder's pid, host, start time
// and a nonce; it is created with O_EXCL, so of two writers started together exactly one gets it, and the
// other is refused with a message naming the holder. A lock whose holder is gone (same host, pid not alive)
// is taken over: it is renamed away (only one taker can win that rename), checked to be the stale one
// that was judged, and a fresh lock is created. A writer checks that it still holds the lock before each
// checkpoint commit, so even a lost race never mixes two runs' files.
import { linkSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileDurable } from '../atomic_write.js';

export const LOCK_FILE = 'lock';

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the holder started */
  started: string;
  nonce: string;
  command?: string;
}

export interface RunLock {
  readonly holder: LockHolder;
  /** throws when another process has taken the lock (checked before each checkpoint commit) */
  check(): void;
  release(): void;
}

function readHolder(path: string): LockHolder | null {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as LockHolder;
    return Number.isInteger(h.pid) && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** a lock nobody holds any more: its process is gone (same host), or it is unreadable and old (a torn write) */
function isStale(path: string, h: LockHolder | null): boolean {
  if (h) return h.host === hostname() && h.pid !== process.pid && !alive(h.pid);
  try {
    return Date.now() - statSync(path).mtimeMs > 5000;
  } catch {
    return false;
  }
}

function describe(h: LockHolder | null): string {
  return h ? `process ${h.pid} on ${h.host}, started ${h.started}${h.command ? ` (${h.command})` : ''}` : 'an unknown process (unreadable lock file)';
}

/** Takes the lock of run directory `dir` (which must exist), or throws naming the holder. */
export function lockRunDir(dir: string, command?: string): RunLock {
  const path = join(dir, LOCK_FILE);
  const me: LockHolder = { pid: process.pid, host: hostname(), started: new Date().toISOString(), nonce: randomBytes(8).toString('hex'), ...(command ? { command } : {}) };
  const text = JSON.stringify(me) + '\n';
  for (let attempt = 0; ; attempt++) {
    try {
      writeFileDurable(path, text, 'wx');
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
        rmSync(path, { force: true });
        throw new Error(`cannot lock run directory '${dir}': ${(e as Error).message}`);
      }
    }
    const h = readHolder(path);
    if (attempt < 3 && isStale(path, h)) {
      // take over: move the stale lock aside; if what we moved is not what we judged, put it back
      const aside = `${path}.stale.${process.pid}`;
      try {
        renameSync(path, aside);
      } catch {
        continue; // someone else moved it first
      }
      const moved = readHolder(aside);
      if (h && moved && moved.nonce !== h.nonce) {
        try { linkSync(aside, path); } catch { /* a third writer holds it now */ }
      }
      rmSync(aside, { force: true });
      continue;
    }
    throw new Error(`run directory '${dir}' is in use by ${describe(h)}; wait for it to finish, or, if that process is gone, remove '${path}'`);
  }
  let released = false;
  const onExit = () => lock.release();
  const lock: RunLock = {
    holder: me,
    check() {
      const h = readHolder(path);
      if (!h || h.nonce !== me.nonce) throw new Error(`lost the lock of run directory '${dir}' to ${describe(h)}; not writing a checkpoint`);
    },
    release() {
      if (released) return;
      released = true;
      process.off('exit', onExit);
      const h = readHolder(path);
      if (h && h.nonce === me.nonce) rmSync(path, { force: true });
    },
  };
  process.on('exit', onExit);
  return lock;
}
