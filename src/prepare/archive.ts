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

/** Reads the candidate files of one zip held in memory. */
export function zipFiles(data: Uint8Array, source: string): ExportFile[] {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(data, { filter: (f) => CHAT_FILE.test(f.name) && !/(^|\/)__MACOSX\//.test(f.name) });
  } catch (e) {
    throw new ExportError(`${source}: not a readable zip archive (${(e as Error).message})`);
  }
  return Object.keys(entries).sort().map((name) => ({ source: `${source}:${name}`, entry: name, direct: false, bytes: entries[name] }));
}

function walk(dir: string, rel: string, out: ExportFile[]): void {
  for (const name of readdirSync(dir).sort()) {
    if (name.startsWith('.')) continue;
    const full = join(dir, name);
    const entry = rel ? `${rel}/${name}` : name;
    const st = statSync(full);
    if (st.isDirectory()) walk(full, entry, out);
    else if (/\.zip$/i.test(name)) out.push(...zipFiles(readFileSync(full), full));
    else if (CHAT_FILE.test(entry)) out.push({ source: full, entry, direct: false, bytes: readFileSync(full) });
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
    if (st.isDirectory()) {
      const out: ExportFile[] = [];
      walk(path, '', out);
      return out;
    }
    const bytes = readFileSync(path);
    if (/\.zip$/i.test(path) || (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04)) return zipFiles(bytes, path);
    const base = path.split(/[\\/]/).pop() ?? path;
    return [{ source: path, entry: base, direct: true, bytes }];
  } catch (e) {
    if (e instanceof ExportError) throw e;
    throw new ExportError(`${path}: cannot read (${(e as Error).message})`);
  }
}
