// What the serve page shows of a run directory: its checkpoint (reloaded when training commits a new
// one; a model still generating for someone is freed only when its last user is done),
// the training options from train_state.json, and log.jsonl, tailed by polling so that every entry a
// running training appends reaches the page's listeners.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { DeviceName } from '../backend.js';
import { holdsCheckpoint, loadCheckpoint, MODEL_FILE, type CheckpointConfig } from '../checkpoint/checkpoint.js';
import { committedDir } from '../checkpoint/commit.js';
import type { CharRNN } from '../nn/char_rnn.js';
import type { Vocab } from '../text/vocab.js';
import { readRunOptions } from '../train/options.js';

/** one parsed line of log.jsonl (types written by the trainer: train, val, sample, event) */
export type LogEntry = Record<string, unknown> & { type: string; step: number };

/** a loaded model; `release()` when a generation that `acquire`d it ends */
export interface ModelLease {
  model: CharRNN;
  vocab: Vocab;
  config: CheckpointConfig;
  step: number;
  release(): void;
}

interface Loaded {
  model: CharRNN;
  vocab: Vocab;
  config: CheckpointConfig;
  step: number;
  /** model.safetensors' mtime + size when loaded */
  stamp: string;
  users: number;
  retired: boolean;
}

/** Throws a clear Error when `dir` is not a run directory with a checkpoint. */
export function checkRunDir(dir: string): void {
  if (!existsSync(dir)) throw new Error(`run directory '${dir}' does not exist`);
  if (!statSync(dir).isDirectory()) throw new Error(`'${dir}' is not a run directory (it is a file); give the directory that holds ${MODEL_FILE}`);
  if (!holdsCheckpoint(dir)) {
    throw new Error(`'${dir}' is not a checkpoint: it has no ${MODEL_FILE} (train one with: lstm-cuda train FILE --out ${dir})`);
  }
}

export class RunView {
  readonly dir: string;
  private readonly device?: DeviceName;
  private current: Loaded | null = null;
  private loadError: string | null = null;
  private readonly log: LogEntry[] = [];
  private logOffset = 0;
  private partial = '';
  private logIno = -1;
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners = new Set<(e: { kind: 'log'; entries: LogEntry[] } | { kind: 'checkpoint'; step: number }) => void>();

  constructor(dir: string, opts: { device?: DeviceName } = {}) {
    this.dir = resolve(dir);
    this.device = opts.device;
  }

  /** the committed model file and what identifies its version (commit directory, mtime, size) */
  private committed(): { file: string; stamp: string } | null {
    try {
      const file = join(committedDir(this.dir), MODEL_FILE);
      const s = statSync(file);
      return { file, stamp: `${file}:${s.mtimeMs}:${s.size}` };
    } catch {
      return null;
    }
  }

  /** (Re)loads the checkpoint when training committed a new one since the last load; returns whether it did. */
  refresh(): boolean {
    for (let attempt = 0; attempt < 2; attempt++) {
      const c = this.committed();
      if (c === null || c.stamp === this.current?.stamp) return false;
      try {
        // the committed model file alone: serving needs neither the optimizer moments nor the training state
        const ck = loadCheckpoint(c.file, { device: this.device });
        ck.model.eval();
        const old = this.current;
        this.current = { model: ck.model, vocab: ck.vocab, config: ck.config, step: ck.step, stamp: c.stamp, users: 0, retired: false };
        this.loadError = null;
        if (old) { old.retired = true; if (old.users === 0) old.model.dispose(); }
        for (const l of this.listeners) l({ kind: 'checkpoint', step: ck.step });
        return true;
      } catch (e) {
        // a commit that replaced this one (and removed its directory) while it was read: read the new one
        if (attempt === 0 && this.committed()?.stamp !== c.stamp) continue;
        this.loadError = (e as Error).message;
        return false;
      }
    }
    return false;
  }

  /** The current model for one generation, or an Error saying why there is none. */
  acquire(): ModelLease {
    this.refresh();
    const cur = this.current;
    if (!cur) throw new Error(this.loadError ?? `no checkpoint yet in '${this.dir}' (training writes ${MODEL_FILE} at its first save)`);
    cur.users++;
    let released = false;
    return {
      model: cur.model, vocab: cur.vocab, config: cur.config, step: cur.step,
      release: () => {
        if (released) return;
        released = true;
        cur.users--;
        if (cur.retired && cur.users === 0) cur.model.dispose();
      },
    };
  }

  /** Summary for GET /api/run. */
  info(): Record<string, unknown> {
    this.refresh();
    this.pollLog();
    let options: Record<string, unknown> | null = null;
    try {
      options = readRunOptions(this.dir) as unknown as Record<string, unknown>;
    } catch { /* a run without training state (a copied model file) has no options to show */ }
    const c = this.current;
    return {
      dir: this.dir,
      checkpoint: c ? {
        step: c.step, config: c.config, vocab: { mode: c.vocab.mode, size: c.vocab.size },
        device: c.model.device, parameters: c.model.parameters().reduce((a, p) => a + p.size, 0),
      } : null,
      checkpointError: this.loadError,
      options,
      log: this.log,
    };
  }

  /** Reads what log.jsonl gained since the last call; returns the new entries (a torn last line waits). */
  pollLog(): LogEntry[] {
    const p = join(this.dir, 'log.jsonl');
    let size: number, ino: number;
    try { ({ size, ino } = statSync(p)); } catch { return []; }
    // the trainer appends; it rewrites the file (atomically: a new inode) for a fresh run or a --resume
    if (size < this.logOffset || (this.logIno !== -1 && ino !== this.logIno)) {
      this.log.length = 0;
      this.logOffset = 0;
      this.partial = '';
      for (const l of this.listeners) l({ kind: 'log', entries: [] });
    }
    this.logIno = ino;
    if (size === this.logOffset) return [];
    const fd = openSync(p, 'r');
    let chunk: string;
    try {
      const buf = Buffer.alloc(size - this.logOffset);
      const n = readSync(fd, buf, 0, buf.length, this.logOffset);
      this.logOffset += n;
      chunk = buf.subarray(0, n).toString('utf8');
    } finally {
      closeSync(fd);
    }
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop()!;
    const fresh: LogEntry[] = [];
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as LogEntry;
        if (e && typeof e.type === 'string') fresh.push(e);
      } catch { /* not a log line: skip it rather than stop the page */ }
    }
    this.log.push(...fresh);
    if (fresh.length) for (const l of this.listeners) l({ kind: 'log', entries: fresh });
    return fresh;
  }

  /** Calls fn with new log entries and checkpoint reloads; polling runs while anyone listens. */
  subscribe(fn: (e: { kind: 'log'; entries: LogEntry[] } | { kind: 'checkpoint'; step: number }) => void): () => void {
    this.listeners.add(fn);
    if (!this.timer) {
      this.timer = setInterval(() => { this.pollLog(); this.refresh(); }, 400);
      this.timer.unref();
    }
    return () => {
      this.listeners.delete(fn);
      if (this.listeners.size === 0 && this.timer) { clearInterval(this.timer); this.timer = null; }
    };
  }

  /** Stops polling and frees the model (call after the last generation ended). */
  close(): void {
    if (this.timer) { clearInterval(this.timer); this.timer = null; }
    this.listeners.clear();
    if (this.current) {
      this.current.retired = true;
      if (this.current.users === 0) this.current.model.dispose();
      this.current = null;
    }
  }
}
