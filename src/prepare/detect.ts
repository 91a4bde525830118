// Which reader a file of an export goes to, and reading a whole export into conversations.
// Detection (format `auto`): `message_N.html` → Messenger HTML; `.json` → Messenger or Telegram by shape;
// `.txt` → WhatsApp when one of its first lines has a WhatsApp timestamp. A file named directly is read
// by its extension (and an unrecognised shape is an error); inside a directory or zip, files of no known
// shape are ignored and counted. Messenger threads split over message_1..N files become one conversation.
import { Conversation, ExportError, sortChronologically } from './conversation.js';
import { ExportFile, exportFiles } from './archive.js';
import { isMessengerJson, readMessengerHtml, readMessengerJson } from './messenger.js';
import { isTelegramJson, readTelegram } from './telegram.js';
import { DateOrder, readWhatsApp } from './whatsapp.js';

export type FormatChoice = 'auto' | 'messenger' | 'whatsapp' | 'telegram';
export const FORMAT_CHOICES: readonly FormatChoice[] = ['auto', 'messenger', 'whatsapp', 'telegram'];

export interface ReadExport {
  conversations: Conversation[];
  /** files read as chats, by format */
  filesRead: Record<'messenger' | 'whatsapp' | 'telegram', number>;
  /** files looked at and not recognised as a chat (inside directories and zips) */
  filesIgnored: number;
}

const utf8 = new TextDecoder('utf-8');
const text = (f: ExportFile) => utf8.decode(f.bytes).replace(/^\ufeff/, '');

type Parsed =
  | { format: 'messenger'; kind: 'json'; value: unknown }
  | { format: 'messenger'; kind: 'html' }
  | { format: 'telegram'; value: unknown }
  | { format: 'whatsapp' }
  | null;

const WHATSAPP_SNIFF = /^[\u200e\ufeff]?(\[\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\.?,?\s+\d{1,2}[:.]\d{2}.*?\] |\d{1,4}[./-]\d{1,2}[./-]\d{2,4}\.?,?\s+\d{1,2}[:.]\d{2}.*? [-–] )/m;

function classify(f: ExportFile): Parsed {
  const base = f.entry.split('/').pop() ?? f.entry;
  if (/\.html?$/i.test(base)) return f.direct || /^message_\d+\.html?$/i.test(base) ? { format: 'messenger', kind: 'html' } : null;
  if (/\.txt$/i.test(base)) {
    if (f.direct) return { format: 'whatsapp' };
    return WHATSAPP_SNIFF.test(text(f).slice(0, 4000)) ? { format: 'whatsapp' } : null;
  }
  if (/\.json$/i.test(base)) {
    let value: unknown;
    try {
      value = JSON.parse(text(f));
    } catch (e) {
      if (f.direct) throw new ExportError(`${f.source}: not valid JSON (${(e as Error).message})`);
      return null;
    }
    if (isMessengerJson(value)) return { format: 'messenger', kind: 'json', value };
    if (isTelegramJson(value)) return { format: 'telegram', value };
    if (f.direct) {
      throw new ExportError(`${f.source}: JSON of an unknown shape (expected a Messenger message_N.json with participants and messages, or a Telegram result.json with chats.list or messages)`);
    }
    return null;
  }
  return null;
}

/** The folder of a file inside its export: message_N files of one folder are one Messenger thread. */
function threadKey(f: ExportFile): string {
  const slash = f.entry.lastIndexOf('/');
  return slash < 0 ? '.' : f.entry.slice(0, slash);
}

/**
 * Reads every chat of the export(s) at `paths` in `format` (or detected, for 'auto').
 * Throws ExportError when a path is missing or holds no chat of the asked format.
 */
export function readExport(paths: string[], format: FormatChoice, dateOrder: DateOrder = 'auto'): ReadExport {
  const result: ReadExport = { conversations: [], filesRead: { messenger: 0, whatsapp: 0, telegram: 0 }, filesIgnored: 0 };
  for (const path of paths) {
    const files = exportFiles(path);
    const found: Record<string, number> = {};
    let used = 0;
    // Messenger threads: message_N files of one folder form one conversation; JSON wins over HTML
    const threads = new Map<string, { json: Conversation[]; html: Conversation[] }>();
    for (const f of files) {
      let p = classify(f);
      if (f.direct && format !== 'auto') {
        // a file named directly is read as the format asked for, whatever its name says
        if (format === 'whatsapp') p = { format: 'whatsapp' };
        else if (format === 'messenger' && p?.format !== 'messenger') {
          if (p === null || p.format === 'whatsapp') p = { format: 'messenger', kind: 'html' };
          else throw new ExportError(`${f.source}: this is a ${p.format} export, not messenger (use --format auto or ${p.format})`);
        } else if (format === 'telegram' && p?.format !== 'telegram') {
          throw new ExportError(`${f.source}: not a Telegram result.json${p ? ` (it looks like a ${p.format} export)` : ''}`);
        }
      }
      if (!p) { result.filesIgnored++; continue; }
      found[p.format] = (found[p.format] ?? 0) + 1;
      if (format !== 'auto' && p.format !== format) continue;
      used++;
      result.filesRead[p.format]++;
      if (p.format === 'whatsapp') result.conversations.push(readWhatsApp(text(f), f.source, dateOrder));
      else if (p.format === 'telegram') result.conversations.push(...readTelegram(p.value, f.source));
      else {
        const key = threadKey(f);
        const t = threads.get(key) ?? { json: [], html: [] };
        threads.set(key, t);
        if (p.kind === 'json') t.json.push(readMessengerJson(p.value, f.source));
        else t.html.push(readMessengerHtml(text(f), f.source));
      }
    }
    for (const [key, t] of threads) {
      const parts = t.json.length > 0 ? t.json : t.html;
      result.conversations.push({
        source: parts.length === 1 ? parts[0].source : `${path}: ${key}`,
        title: parts.find((c) => c.title)?.title ?? '',
        messages: sortChronologically(parts.flatMap((c) => c.messages)),
      });
    }
    if (used === 0) {
      const seen = Object.entries(found).map(([k, n]) => `${n} ${k} file${n === 1 ? '' : 's'}`).join(', ');
      const telegramHtml = files.some((f) => /(^|\/)messages\d*\.html$/i.test(f.entry));
      const hint = telegramHtml ? '; Telegram HTML exports are not supported, export as "Machine-readable JSON"' : '';
      throw new ExportError(`${path}: no ${format === 'auto' ? 'Messenger, WhatsApp or Telegram' : format} chat found${seen ? ` (found ${seen})` : ` among ${files.length} file${files.length === 1 ? '' : 's'}`}${hint}`);
    }
  }
  return result;
}
