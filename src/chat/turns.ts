// The conversation text format of `prepare --turns` and the `turns` data mode: one message per line after a
// speaker marker, `me: ` for the owner and `them: ` for everyone else (or `Name: ` with --keep-names),
// conversations separated by an empty line:
//
//   them: are you coming tonight?
//   me: yes! 10 min
//   me: save me a seat
//
//   them: happy birthday!!
//   me: thank you 😊
//
// Training on it counts the loss only on the predictions made from inside the owner's lines: the text of
// each of your messages, the newline that ends it, and what follows that newline (another message of yours,
// or the turn handed over). Everything the others wrote is context: read, never learnt to imitate.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Vocab } from '../text/vocab.js';
import { checkArray, checkCount, checkObject, checkString, checkTypedArray } from '../args.js';

/** marker that starts each of the owner's lines */
export const ME_MARKER = 'me: ';
/** marker of the other side when names are anonymised */
export const THEM_MARKER = 'them: ';

export interface Turn {
  /** 'me', or who else spoke ('them' when anonymised, else a display name) */
  role: string;
  /** one line of text (no line breaks) */
  text: string;
}

/** The marker of a role: `me: `, `them: ` or `Name: ` (a name's colons and line breaks become spaces). */
export function markerOf(role: string): string {
  if (role === 'me') return ME_MARKER;
  const name = role.replace(/[:\r\n]+/g, ' ').replace(/ {2,}/g, ' ').trim() || 'them';
  // a sender literally called "me" must not pass for the owner
  return `${name.toLowerCase() === 'me' ? 'me (other)' : name}: `;
}

/** Formats conversations as training text: one `marker text` line per message, an empty line between. */
export function formatTurns(conversations: Turn[][]): string {
  checkArray('formatTurns: conversations', conversations);
  conversations.forEach((c, i) => {
    checkArray(`formatTurns: conversations[${i}]`, c);
    c.forEach((t, j) => {
      checkObject(`formatTurns: conversations[${i}][${j}]`, t);
      checkString(`formatTurns: conversations[${i}][${j}].role`, t.role);
      checkString(`formatTurns: conversations[${i}][${j}].text`, t.text);
    });
  });
  const blocks = conversations.filter((c) => c.length > 0).map((c) => c.map((t) => {
    if (/[\r\n]/.test(t.text)) throw new RangeError(`formatTurns: a message must be one line, got ${JSON.stringify(t.text.slice(0, 40))}`);
    return markerOf(t.role) + t.text + '\n';
  }).join(''));
  return blocks.join('\n');
}

/**
 * The loss mask of a turns corpus, per target position: mask[j] = 1 when ids[j] is predicted from inside
 * one of the owner's lines (the input ids[j-1] is on a line that starts with `me`, its newline included).
 * Shapes: ids [n] -> mask [n] (mask[0] = 0: nothing predicts the first id).
 * `me` and `newline` are the ids of ME_MARKER and of '\n' in the corpus's vocabulary.
 */
export function turnsMask(ids: Int32Array, me: Int32Array, newline: number): Uint8Array {
  checkTypedArray('turnsMask: ids', ids, Int32Array);
  checkTypedArray('turnsMask: me', me, Int32Array);
  checkCount('turnsMask: newline', newline);
  const n = ids.length;
  const mask = new Uint8Array(n);
  let lineStart = 0;
  // a stream cut out of the middle of a corpus (the validation split) starts inside an unknown line: not counted
  for (let i = 0; i < n; i++) {
    if (i === lineStart) {
      let mine = me.length > 0 && i + me.length <= n;
      for (let k = 0; mine && k < me.length; k++) mine = ids[i + k] === me[k];
      let end = i;
      while (end < n && ids[end] !== newline) end++;
      if (mine) for (let p = i; p <= end && p + 1 < n; p++) mask[p + 1] = 1;
      lineStart = end + 1;
    }
  }
  return mask;
}

/** turnsMask for a corpus encoded with `vocab`; an Error when the text has no line of the owner. */
export function turnsLossMask(ids: Int32Array, vocab: Vocab, what: string): Uint8Array {
  const me = vocab.encode(ME_MARKER);
  const nl = vocab.encode('\n').ids;
  if (me.unknown.length || nl.length !== 1 || me.ids.length === 0) {
    throw new Error(`${what} is not a conversation file: no '${ME_MARKER.trim()}' lines (make one with lstm-cuda prepare --turns)`);
  }
  const mask = turnsMask(ids, me.ids, nl[0]!);
  if (!mask.includes(1)) throw new Error(`${what} has no line starting with '${ME_MARKER}': nothing of yours to learn from (make it with lstm-cuda prepare --turns)`);
  return mask;
}

/** true when the file's first 64 KiB read as prepare --turns output: `marker text` lines, one of them yours. */
export function looksLikeTurns(path: string): boolean {
  let head: string;
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(65536);
      head = buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return false; // the trainer reports a missing or unreadable file
  }
  const lines = head.split('\n').slice(0, -1).filter((l) => l.trim() !== '');
  if (lines.length === 0 || !lines.some((l) => l.startsWith(ME_MARKER))) return false;
  return lines.filter((l) => /^[^:\n]{1,60}: /.test(l)).length >= 0.95 * lines.length;
}
