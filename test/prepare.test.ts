// Tests of `lstm-cuda prepare`: each export format (Messenger JSON with its mojibake, Messenger HTML,
// WhatsApp Android and iOS, Telegram with entity arrays), directories and zips read in memory, the
// filters, the sender listing, and bad input (clear message, non-zero exit, no output file).
// Most cases call run() in-process; a few spawn the built CLI to check exit codes end to end.
process.env.TZ = 'UTC'; // dates in the fixtures are read as local time; make "local" the same everywhere

import test from 'tape';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { zipSync } from 'fflate';
import { run } from '../src/cli/prepare.js';
import { UsageError } from '../src/cli/usage_error.js';
import { fixMojibake, readMessengerJson } from '../src/prepare/messenger.js';
import { readWhatsApp } from '../src/prepare/whatsapp.js';
import { readTelegram, telegramText } from '../src/prepare/telegram.js';
import { cleanMessage } from '../src/prepare/index.js';
import { parseHtml, textContent } from '../src/prepare/html.js';

// Keeps the dispatcher in this build (build/src/cli/main.js) so the spawn tests can run it.
export type MainModule = typeof import('../src/cli/main.js');

const here = dirname(fileURLToPath(import.meta.url)); // build/test
const repo = resolve(here, '..', '..');
const FIX = join(repo, 'test', 'fixtures', 'prepare');
const MAIN = join(repo, 'build', 'src', 'cli', 'main.js');
const ME = 'Zoë Ångström';

interface Result { code: number; stdout: string; stderr: string }

/** Runs `prepare` in-process, capturing stdout/stderr; a UsageError becomes its exit code + message. */
async function call(args: string[]): Promise<Result> {
  let stdout = '';
  let stderr = '';
  const ow = process.stdout.write.bind(process.stdout);
  const ew = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string | Uint8Array) => { stdout += String(s); return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => { stderr += String(s); return true; }) as typeof process.stderr.write;
  let code: number;
  try {
    code = await run(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    code = e.exitCode;
    stderr += `lstm-cuda: ${e.message}\n`;
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
  return { code, stdout, stderr };
}

const lines = (s: string) => s.split('\n').slice(0, -1);

function filesUnder(dir: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, name.name);
      if (name.isDirectory()) walk(full); else out[relative(dir, full).split('\\').join('/')] = readFileSync(full);
    }
  };
  walk(dir);
  return out;
}

const MESSENGER_LINES = ['Happy new year José! 😂', 'Group hello', 'Line one Line two', 'see https://example.org/x cool', 'ok'];
const TELEGRAM_LINES = ['Plain message', 'Look at this and https://t.me/x!', 'Caption text', '@ravi dinner?', 'Multi line message'];

test('prepare: Facebook mojibake is undone only where the bytes are UTF-8', (t) => {
  t.equal(fixMojibake('\u00f0\u009f\u0098\u0082'), '😂', 'emoji from 4 Latin-1 escapes');
  t.equal(fixMojibake('Jos\u00c3\u00a9'), 'José', 'accented name');
  t.equal(fixMojibake('José'), 'José', 'proper Latin-1 text that is not UTF-8 bytes stays');
  t.equal(fixMojibake('😂 ok'), '😂 ok', 'code units ≥ 256 stay');
  t.equal(fixMojibake('plain'), 'plain');
  t.end();
});

test('prepare: Messenger JSON directory, several threads merged in time order', async (t) => {
  const r = await call(['messenger', join(FIX, 'messenger'), '--me', ME]);
  t.equal(r.code, 0, 'exit 0');
  t.deepEqual(lines(r.stdout), MESSENGER_LINES, 'my text messages, mojibake fixed, multi-line joined, threads interleaved by date');
  t.match(r.stderr, /read 2 conversations \(files: messenger 3; 1 other files ignored\)/, 'conversations and ignored files reported');
  t.match(r.stderr, /kept 5 messages of 'Zoë Ångström', 82 characters, 2023-01-05 to 2023-02-10/, 'kept, characters, date range');
  for (const s of ['other senders 3', 'attachment 2', 'sticker 1', 'call 1', 'unsent 1', 'reaction 1', 'system 1']) t.ok(r.stderr.includes(s), `skipped ${s}`);
  t.end();
});

test('prepare: names people type for a format (facebook, fb, any case); a first argument that is neither', async (t) => {
  for (const args of [['facebook', join(FIX, 'messenger')], ['fb', join(FIX, 'messenger')], ['Facebook', join(FIX, 'messenger')], ['--format', 'FB', join(FIX, 'messenger')]]) {
    const r = await call([...args, '--me', ME]);
    t.equal(r.code, 0, `${args.join(' ')}: exit 0`);
    t.deepEqual(lines(r.stdout), MESSENGER_LINES, `${args.join(' ')}: read as Messenger`);
  }
  const typo = await call(['whatsap', join(FIX, 'whatsapp'), '--me', ME]);
  t.equal(typo.code, 2, 'a mistyped format before a path: exit 2 (usage)');
  t.match(typo.stderr, /whatsap: no such file or directory, and not a format name \(formats: auto \| messenger \(or facebook, fb\) \| whatsapp \| telegram\); did you mean whatsapp\?/, 'names the formats and the near one');
  const flag = await call(['--format', 'icq', join(FIX, 'messenger')]);
  t.match(flag.stderr, /--format must be one of auto \| messenger \(or facebook, fb\) \| whatsapp \| telegram, got 'icq'/, '--format lists the names too');
  t.end();
});

test('prepare: newer Messenger end-to-end encrypted export (camelCase, UTF-8 proper)', (t) => {
  const c = readMessengerJson({
    participants: ['José García', 'Zoë Ångström'], threadName: 'José García',
    messages: [
      { isUnsent: false, media: [], reactions: [], senderName: 'Zoë Ångström', text: 'José, ça va ?', timestamp: 1700000300000, type: 'text' },
      { isUnsent: true, media: [], reactions: [], senderName: 'Zoë Ångström', text: '', timestamp: 1700000200000, type: 'text' },
      { isUnsent: false, media: [{ uri: './media/1.jpg' }], reactions: [], senderName: 'Zoë Ångström', text: '', timestamp: 1700000100000, type: 'media' },
    ],
  }, 'e2ee.json');
  t.deepEqual(c.messages.map((m) => [m.kind, m.text]), [['attachment', ''], ['unsent', ''], ['text', 'José, ça va ?']], 'oldest first, text not re-decoded');
  t.equal(c.title, 'José García');
  t.end();
});

test('prepare: listing the senders without --me', async (t) => {
  const r = await call([join(FIX, 'messenger')]);
  t.equal(r.code, 0, 'exit 0');
  t.equal(r.stdout, '11  Zoë Ångström\n 2  José García\n 1  Bob Smith\n', 'senders by message count, names decoded');
  t.match(r.stderr, /--me/, 'says how to pick');
  t.end();
});

test('prepare: --min-chars, --drop-links, --since/--until, --newline', async (t) => {
  const dir = join(FIX, 'messenger');
  let r = await call([dir, '--me', ME, '--min-chars', '3', '--drop-links']);
  t.deepEqual(lines(r.stdout), ['Happy new year José! 😂', 'Group hello', 'Line one Line two'], 'short and link messages dropped');
  t.match(r.stderr, /short 1/, 'short counted');
  t.match(r.stderr, /link 1/, 'link counted');
  r = await call([dir, '--me', ME, '--since', '2023-01-20', '--until', '2023-01-20']);
  t.deepEqual(lines(r.stdout), ['Group hello'], 'inclusive date range of one day');
  t.match(r.stderr, /before --since 1.*after --until 3|after --until 3.*before --since 1/, 'date skips counted');
  r = await call([dir, '--me', ME, '--newline', ' ⏎ ', '--until', '2023-02-10T12:00']);
  t.deepEqual(lines(r.stdout).slice(-1), ['Line one ⏎ Line two'], 'visible separator; date-time bound inclusive');
  t.end();
});

test('prepare: --me matching: case-insensitive fallback, several names, warning for an unknown one', async (t) => {
  const dir = join(FIX, 'messenger');
  let r = await call([dir, '--me', '  zoë ångström ']);
  t.equal(r.code, 0);
  t.deepEqual(lines(r.stdout), MESSENGER_LINES, 'matched ignoring case and surrounding spaces');
  t.match(r.stderr, /matched 'Zoë Ångström' ignoring case/, 'says so');
  r = await call([dir, '--me', ME, '--me', 'Old Name', '--me', 'José García']);
  t.equal(lines(r.stdout).length, 7, 'both names kept');
  t.match(r.stderr, /warning: --me 'Old Name' matched nobody/, 'unknown name warned about');
  // NFC: the same name written with combining marks (NFD)
  r = await call([dir, '--me', ME.normalize('NFD')]);
  t.deepEqual(lines(r.stdout), MESSENGER_LINES, 'NFD spelling matches');
  t.notOk(r.stderr.includes('ignoring case'), 'exact after NFC');
  t.end();
});

test('prepare: Messenger HTML variant', async (t) => {
  const r = await call(['auto', join(FIX, 'messenger_html'), '--me', ME]);
  t.equal(r.code, 0);
  t.deepEqual(lines(r.stdout), ['Erste Zeile Zweite Zeile', 'Tschüss & bis bald <3 👋'], 'entities decoded, <br> joined, reactions left out');
  t.match(r.stderr, /attachment 2/, 'photo-only and "sent an attachment" skipped');
  t.match(r.stderr, /2023-03-02 to 2023-03-02/, 'dates parsed');
  const tree = parseHtml('<p>a<br>b &amp; c<script>x<y</script><!-- <div>no</div> --></p>');
  t.equal(textContent(tree), 'a\nb & c', 'scanner skips scripts and comments');
  t.end();
});

test('prepare: WhatsApp Android (month-first, 12h with U+202F) and iOS (day-first, U+200E)', async (t) => {
  let r = await call(['whatsapp', join(FIX, 'whatsapp'), '--me', ME]);
  t.equal(r.code, 0);
  t.deepEqual(lines(r.stdout), ['Happy new year!', 'First line second line third line', 'Edited text'], 'continuation lines joined, edit marker removed');
  for (const s of ['system 3', 'attachment 2', 'unsent 1', 'other senders 1']) t.ok(r.stderr.includes(s), `skipped ${s}`);
  t.match(r.stderr, /2022-12-31 to 2023-01-02/, '12/31/22 read month-first, 12:15 AM after 9:05 PM');
  r = await call([join(FIX, 'whatsapp_ios', '_chat.txt'), '--me', ME]);
  t.equal(r.code, 0);
  t.deepEqual(lines(r.stdout), ['Frohes neues Jahr 🎉', 'Zeile eins Zeile zwei'], 'iOS lines');
  for (const s of ['system 1', 'attachment 2', 'other senders 3']) t.ok(r.stderr.includes(s), `skipped ${s}`);
  t.match(r.stderr, /2022-12-31 to 2023-01-01/, '31/12/2022 read day-first');
  t.end();
});

test('prepare: WhatsApp date order and time styles', (t) => {
  const ambiguous = readWhatsApp('01/02/23, 10:00 - A: x\n01/03/23, 10:00 - A: y\n02/01/23, 10:00 - A: z\n', 'amb.txt');
  t.deepEqual(ambiguous.messages.map((m) => new Date(m.time).toISOString().slice(0, 10)), ['2023-01-02', '2023-01-03', '2023-02-01'],
    'all fields ≤ 12: the order under which time runs forward (month-first) wins');
  const forced = readWhatsApp('01/02/23, 10:00 - A: x\n', 'f.txt', 'dmy');
  t.equal(new Date(forced.messages[0].time).toISOString(), '2023-02-01T10:00:00.000Z', '--date-order dmy');
  const german = readWhatsApp('31.12.22, 21:04 - Jörg: Prost\n01.01.23, 0:30 - Jörg: Neujahr\n', 'de.txt');
  t.deepEqual(german.messages.map((m) => new Date(m.time).toISOString()), ['2022-12-31T21:04:00.000Z', '2023-01-01T00:30:00.000Z'], 'dotted dates');
  const twelve = readWhatsApp('[1/2/23, 12:30:05\u202fAM] A: x\n[1/2/23, 12:05:00 PM] A: y\n[13/2/23, 9:04:00 p.m.] A: z', 'ios12.txt');
  t.deepEqual(twelve.messages.map((m) => new Date(m.time).toISOString()),
    ['2023-02-01T00:30:05.000Z', '2023-02-01T12:05:00.000Z', '2023-02-13T21:04:00.000Z'], '12 AM is 0h, 12 PM is 12h, p.m.');
  t.throws(() => readWhatsApp('hello\nworld\n', 'x.txt'), /x\.txt: not a WhatsApp chat export/, 'no timestamps: error names the file');
  t.end();
});

test('prepare: Telegram result.json with entity arrays, service messages, media, forwards', async (t) => {
  t.equal(telegramText(['a ', { type: 'bold', text: 'b' }, { type: 'link', text: ' c' }]), 'a b c', 'entities concatenated');
  const r = await call(['telegram', join(FIX, 'telegram', 'result.json'), '--me', ME]);
  t.equal(r.code, 0);
  t.deepEqual(lines(r.stdout), TELEGRAM_LINES, 'two chats merged by time; caption kept');
  const one = readTelegram({ name: 'Ravi', type: 'personal_chat', id: 1, messages: [
    { id: 1, type: 'message', date: '2023-05-06T07:08:09', from: 'Ravi', text: [{ type: 'text_link', text: 'here', href: 'https://x' }] },
  ] }, 'chat.json');
  t.deepEqual(one.map((c) => c.messages.map((m) => [m.sender, m.text, new Date(m.time).toISOString()])),
    [[['Ravi', 'here', '2023-05-06T07:08:09.000Z']]], 'single-chat export; ISO local date without date_unixtime');
  t.match(r.stderr, /read 2 conversations/, 'chats counted');
  for (const s of ['system 2', 'attachment 1', 'sticker 1', 'forwarded 1', 'other senders 1']) t.ok(r.stderr.includes(s), `skipped ${s}`);
  t.end();
});

test('prepare: zips of a Messenger and a Telegram export, read in memory', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'prepare-zip-'));
  try {
    const fb: Record<string, Uint8Array> = {};
    for (const [k, v] of Object.entries(filesUnder(join(FIX, 'messenger')))) fb[`facebook-zoe/${k}`] = v;
    fb['facebook-zoe/messages/inbox/josegarcia_123/photos/1.jpg'] = new Uint8Array(1000).fill(7);
    writeFileSync(join(tmp, 'facebook.zip'), zipSync(fb));
    let r = await call([join(tmp, 'facebook.zip'), '--me', ME, '--out', join(tmp, 'me.txt')]);
    t.equal(r.code, 0);
    t.equal(r.stdout, '', 'nothing on stdout with --out');
    t.deepEqual(lines(readFileSync(join(tmp, 'me.txt'), 'utf8')), MESSENGER_LINES, 'same as the directory');
    t.match(r.stderr, /wrote .*me\.txt/, 'says where');
    t.deepEqual(readdirSync(tmp).sort(), ['facebook.zip', 'me.txt'], 'no temp file left, nothing unpacked');

    writeFileSync(join(tmp, 'telegram.zip'), zipSync({ 'Telegram Desktop/DataExport_2023-04-03/result.json': readFileSync(join(FIX, 'telegram', 'result.json')) }));
    r = await call(['auto', join(tmp, 'telegram.zip'), '--me', ME]);
    t.equal(r.code, 0);
    t.deepEqual(lines(r.stdout), TELEGRAM_LINES, 'telegram zip detected and read');

    writeFileSync(join(tmp, 'WhatsApp Chat - Ravi.zip'), zipSync({ '_chat.txt': readFileSync(join(FIX, 'whatsapp_ios', '_chat.txt')), '00000012-PHOTO-2023-01-01-09-01-00.jpg': new Uint8Array(64) }));
    r = await call([join(tmp, 'WhatsApp Chat - Ravi.zip'), '--me', ME]);
    t.deepEqual(lines(r.stdout), ['Frohes neues Jahr 🎉', 'Zeile eins Zeile zwei'], 'iPhone WhatsApp zip detected and read');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  t.end();
});

test('prepare: bad input gives a clear message, a non-zero exit and no output file', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'prepare-bad-'));
  try {
    const out = join(tmp, 'out.txt');
    writeFileSync(join(tmp, 'notes.zip'), zipSync({ 'readme.txt': new TextEncoder().encode('just some notes\n'), 'a.png': new Uint8Array(10) }));
    const tgHtml = join(tmp, 'tg.zip');
    writeFileSync(tgHtml, zipSync({ 'ChatExport/messages.html': new TextEncoder().encode('<html><body><div class="message">hi</div></body></html>') }));
    const cases: [string, string[], RegExp][] = [
      ['missing path', [join(tmp, 'nope'), '--me', ME], /nope: no such file or directory/],
      ['zip that is not an export', [join(tmp, 'notes.zip'), '--me', ME], /notes\.zip: no Messenger, WhatsApp or Telegram chat found/],
      ['JSON of another shape', [join(FIX, 'other_shape.json'), '--me', ME], /other_shape\.json: JSON of an unknown shape/],
      ['name that matches nobody', [join(FIX, 'messenger'), '--me', 'Nobody Here'], /--me 'Nobody Here' matches no sender; senders are: 'Zoë Ångström' \(11\), 'José García' \(2\), 'Bob Smith' \(1\)/],
      ['Telegram HTML export', [tgHtml, '--me', ME], /no Messenger, WhatsApp or Telegram chat found.*export as "Machine-readable JSON"/],
      ['format that does not fit', ['telegram', join(FIX, 'whatsapp_ios', '_chat.txt'), '--me', ME], /_chat\.txt: not a Telegram result\.json/],
      ['everything filtered out', [join(FIX, 'messenger'), '--me', ME, '--since', '2030-01-01'], /no messages left to write/],
    ];
    for (const [what, args, re] of cases) {
      const r = await call([...args, '--out', out]);
      t.equal(r.code, 1, `${what}: exit 1`);
      t.match(r.stderr, re, `${what}: message`);
      t.notOk(existsSync(out), `${what}: no output file`);
    }
    const r = await call([join(FIX, 'whatsapp'), '--me', ME, '--out', join(tmp, 'nodir', 'x.txt')]);
    t.equal(r.code, 1, 'missing output directory: exit 1');
    t.match(r.stderr, /--out .*x\.txt: directory '.*nodir' does not exist/, 'missing output directory: message names --out');
    t.notOk(r.stderr.includes('prepare: read'), 'checked before reading the export');
    const usage: [string, string[], RegExp][] = [
      ['bad --since', [join(FIX, 'messenger'), '--me', ME, '--since', '31/12/2023'], /--since expects an ISO date/],
      ['bad --format', ['--format', 'icq', join(FIX, 'messenger')], /--format must be one of/],
      ['no export path', ['whatsapp', '--me', ME], /missing <export> path/],
      ['--since after --until', [join(FIX, 'messenger'), '--since', '2023-02-01', '--until', '2023-01-01'], /--since 2023-02-01 is after --until/],
    ];
    for (const [what, args, re] of usage) {
      const r = await call([...args, '--out', out]);
      t.equal(r.code, 2, `${what}: exit 2`);
      t.match(r.stderr, re, `${what}: message`);
    }
    t.deepEqual(readdirSync(tmp).sort(), ['notes.zip', 'tg.zip'], 'no output or temp files anywhere');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  t.end();
});

test('prepare: cleaning a message to one line', (t) => {
  t.equal(cleanMessage('\u200e  a\u00a0 b\r\n\r\n\tc  \n'), 'a b c', 'marks removed, spaces collapsed, blank lines dropped');
  t.equal(cleanMessage('x\ny', ' / '), 'x / y', 'separator');
  t.equal(cleanMessage('e\u0301'), 'é', 'NFC');
  t.end();
});

test('prepare: the built CLI (spawned) exits 0 / 1 / 2', (t) => {
  if (!existsSync(MAIN)) { t.skip(`SKIP: ${MAIN} not built`); t.end(); return; }
  const tmp = mkdtempSync(join(tmpdir(), 'prepare-cli-'));
  try {
    const env = { ...process.env, TZ: 'UTC' };
    const node = (args: string[]) => spawnSync(process.execPath, [MAIN, 'prepare', ...args], { encoding: 'utf8', env });
    const out = join(tmp, 'me.txt');
    let p = node(['auto', join(FIX, 'whatsapp'), '--me', ME, '--out', out]);
    t.equal(p.status, 0, 'ok: exit 0');
    t.equal(readFileSync(out, 'utf8'), 'Happy new year!\nFirst line second line third line\nEdited text\n', 'file written');
    p = node([join(tmp, 'missing.zip'), '--me', ME, '--out', join(tmp, 'x.txt')]);
    t.equal(p.status, 1, 'missing input: exit 1');
    t.equal(p.stderr.trim().split('\n').length, 1, 'one line');
    t.match(p.stderr, /^lstm-cuda: .*missing\.zip: no such file or directory/, 'names the file');
    t.notOk(existsSync(join(tmp, 'x.txt')), 'no output file');
    p = node([join(FIX, 'whatsapp'), '--min-chars', 'many']);
    t.equal(p.status, 2, 'bad flag: exit 2');
    t.match(p.stderr, /--min-chars expects an integer, got 'many'/, 'names the flag');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  t.end();
});

test('prepare: --out equal to an input is refused; an existing --out needs --force', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'prepare-out-'));
  try {
    const chat = join(tmp, '_chat.txt');
    writeFileSync(chat, readFileSync(join(FIX, 'whatsapp_ios', '_chat.txt')));
    const before = readFileSync(chat);
    let r = await call([chat, '--me', ME, '--out', chat, '--force']);
    t.equal(r.code, 1, 'out = input: exit 1, even with --force');
    t.match(r.stderr, /--out .*_chat\.txt is the input '.*_chat\.txt'; writing it would destroy the export/);
    t.ok(readFileSync(chat).equals(before), 'the export is untouched');
    r = await call([tmp, '--me', ME, '--out', chat, '--force']);
    t.match(r.stderr, /is a file inside the input directory/, 'a file inside an input directory is refused too');
    t.ok(readFileSync(chat).equals(before), 'still untouched');
    const out = join(tmp, 'me.txt');
    writeFileSync(out, 'precious\n');
    r = await call([chat, '--me', ME, '--out', out]);
    t.equal(r.code, 1, 'existing --out without --force: exit 1');
    t.match(r.stderr, /--out .*me\.txt already exists; replace it with --force/);
    t.equal(readFileSync(out, 'utf8'), 'precious\n', 'not replaced');
    r = await call([chat, '--me', ME, '--out', out, '--force']);
    t.equal(r.code, 0, '--force replaces it');
    t.notEqual(readFileSync(out, 'utf8'), 'precious\n');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  t.end();
});

test('prepare: WhatsApp US dates (Jan 5–9, 12-hour clock) are read month-first, and the summary says why', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'prepare-us-'));
  try {
    const chat = join(tmp, 'WhatsApp Chat with Ann.txt');
    writeFileSync(chat, [5, 6, 7, 8, 9].map((d) => `1/${d}/24, 8:55 PM - ${ME}: hello on day ${d}`).join('\n') + '\n');
    const r = await call([chat, '--me', ME, '--since', '2024-01-05', '--until', '2024-01-09']);
    t.equal(r.code, 0, `exit 0 (${r.stderr.trim()})`);
    t.equal(lines(r.stdout).length, 5, '--since/--until keep all five January messages');
    t.match(r.stderr, /dates read as month\/day\/year: consecutive messages are closer in time that way \(4\.0 vs 123\.0 days in all\)/, 'the order and the reason');
    t.match(r.stderr, /2024-01-05 to 2024-01-09/, 'the summary has January 5 to 9');
    writeFileSync(chat, `1/5/24, 8:55 PM - ${ME}: just one\n`);
    const one = await call([chat, '--me', ME]);
    t.match(one.stderr, /dates read as month\/day\/year: both orders fit; the 12-hour clock \(AM\/PM\) suggests a US export/, 'one message: the AM/PM hint');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  t.end();
});
