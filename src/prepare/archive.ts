// The files of an export, wherever they are: a single file, a directory (walked recursively), or a .zip
// read in memory with fflate (never unpacked to disk; only the entries that can hold chats are inflated:
// .json, .txt and the message_N.html / messages.html pages, not media or the other pages of a Facebook
// export). Zips found inside a directory are read the same way.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync } from 'fflate';
import { ExportError } from './conversation.js';

export interface ExportFile {
  /** how messages name it: a path, or `archive.zip:entry/path` */
  source: string;
  /** path inside the export (relative to the directory or zip), '/'-separated; the base name for a single file */
  entry: string;
  /** true when the user named this file directly (so an unrecognised shape is an error, not ignored) */
  direct: boolean;
  bytes: Uint8Array;
}

const CHAT_FILE = /(\.(json|txt)|(^|\/)messages?(_?\d+)?\.html?)$/i;

/**
 * The most bytes prepare reads from one export: its chat files together, a zip's entries counted at their
 * inflated size. Years of a chat history are tens of MB; a longer text could not become one JS string
 * (V8's limit is 2^29 characters). A zip bomb (a tiny zip declaring a huge entry) is refused before
 * anything is inflated: fflate inflates an entry into a buffer of its declared size, never more.
 */
export const MAX_EXPORT_BYTES = 256 * 2 ** 20;

const mib = (n: number) => `${(n / 2 ** 20).toFixed(n < 10 * 2 ** 20 ? 1 : 0)} MiB`;

/** Counts `bytes` more against an export's budget; an ExportError naming `what` past the limit. */
function charge(budget: { used: number }, bytes: number, what: string, kind: string): void {
  budget.used += bytes;
  if (budget.used > MAX_EXPORT_BYTES) {
    throw new ExportError(`${what}: ${kind} ${mib(bytes)}${budget.used > bytes ? ` (${mib(budget.used)} with the files before it)` : ''}, ` +
      `over the ${mib(MAX_EXPORT_BYTES)} prepare reads from one export; nothing was inflated. A chat history is far smaller: ` +
      'if this is one, split the export, else it may be a zip bomb');
  }
}

/** Reads the candidate files of one zip held in memory. */
export function zipFiles(data: Uint8Array, source: string, budget = { used: 0 }): ExportFile[] {
  let entries: Record<string, Uint8Array>;
  try {
    // the filter sees each entry's declared sizes before it is inflated: the budget is charged there
    entries = unzipSync(data, {
      filter: (f) => {
        const wanted = CHAT_FILE.test(f.name) && !/(^|\/)__MACOSX\//.test(f.name);
        if (wanted) charge(budget, f.originalSize, `${source}:${f.name}`, 'inflates to');
        return wanted;
      },
    });
  } catch (e) {
    if (e instanceof ExportError) throw e;
    throw new ExportError(`${source}: not a readable zip archive (${(e as Error).message})`);
  }
  return Object.keys(entries).sort().map((name) => ({ source: `${source}:${name}`, entry: name, direct: false, bytes: entries[name] }));
}

function walk(dir: string, rel: string, out: ExportFile[], budget: { used: number }): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const full = join(dir, name);
    const entry = rel ? `${rel}/${name}` : name;
    const st = statSync(full);
    if (st.isDirectory()) walk(full, entry, out, budget);
    else if (/\.zip$/i.test(name)) out.push(...zipFiles(readFileSync(full), full, budget));
    else if (CHAT_FILE.test(entry)) {
      charge(budget, st.size, full, 'is');
      out.push({ source: full, entry, direct: false, bytes: readFileSync(full) });
    }
  }
}

/**
 * Lists the files of an export at `path` (file, directory or .zip). Throws ExportError naming the
 * path when it does not exist or cannot be read.
 */
export function exportFiles(path: string): ExportFile[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new ExportError(`${path}: no such file or directory`);
  }
  try {
    const budget = { used: 0 };
    if (st.isDirectory()) {
      const out: ExportFile[] = [];
      walk(path, '', out, budget);
      return out;
    }
    // a zip is charged by its inflated chat entries (its media are never inflated), any other file by its size
    if (st.isFile() && !/\.zip$/i.test(path)) charge(budget, st.size, path, 'is');
    const bytes = readFileSync(path);
    if (/\.zip$/i.test(path) || (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)) return zipFiles(bytes, path, { used: 0 });
    const base = path.split(/[\\/]/).pop() ?? path;
    return [{ source: path, entry: base, direct: true, bytes }];
  } catch (e) {
    if (e instanceof ExportError) throw e;
    throw new ExportError(`${path}: cannot read (${(e as Error).message})`);
  }
}
