// The serve page in a real headless browser (Debian's chromium driven by puppeteer-core): a sample
// streams in with every character shaded by its probability, hovering one shows the top-5 alternatives
// and the step's entropy, totals match the API's; a bad parameter shows the server's 400 message on the
// page; closing the tab stops its generation; chat on a conversation-trained run replies; `train --serve` shows the loss plot
// growing while the training writes to the run. Saves screenshots to build/screenshots/ (the README's
// docs/serve-*.png are copies). Prints a visible SKIP where chromium is not installed (.ci/run installs it).
import test from 'tape';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trainCharRNN, DEFAULT_TRAIN_OPTIONS } from '../src/train/trainer.js';
import { startServer } from '../src/serve/server.js';

const CHROMIUM = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => p && existsSync(p));
const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const SHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url)); // build/screenshots/
const root = mkdtempSync(join(tmpdir(), 'lstm-serve-browser-'));
// the functions passed to page.$eval / waitForFunction run in the page; this file compiles without the DOM lib
declare const document: any;
declare function getComputedStyle(e: unknown): { backgroundColor: string };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const TEXT = [
  'the cat sat on the mat and looked at the moon.',
  'the dog sat on the log and looked at the sun.',
  'a model that reads text learns to write text.',
  'the moon is bright tonight, said the cat.',
].join('\n').concat('\n').repeat(12);

if (!CHROMIUM) {
  console.log('# SKIP serve browser test: chromium is not installed (apt-get install chromium; .ci/run installs it)');
  test('serve page in a browser', { skip: true }, () => {});
} else {
  test('serve page in a browser: sample shading, alternatives on hover, errors, closed tab, train --serve', async (t) => {
    const { default: puppeteer } = await import('puppeteer-core');
    const run = join(root, 'run');
    const trained = await trainCharRNN({
      ...DEFAULT_TRAIN_OPTIONS, text: TEXT, out: run, hidden: 32, embed: 16, layers: 1, seq: 48, batch: 8, steps: 100,
      lr: 0.01, device: 'ref', quiet: true, evalEvery: 20, saveEvery: 0, sampleEvery: 60, sampleLength: 60,
    }, { log: () => {} });
    t.equal(trained.status, 'done', `fixture model trained (${trained.message})`);
    const server = await startServer({ dir: run, port: 0, device: 'ref' });
    const browser = await puppeteer.launch({
      executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--font-render-hinting=none'],
    });
    mkdirSync(SHOTS, { recursive: true });
    let child: ChildProcess | undefined;
    try {
      const page = await browser.newPage();
      await page.setViewport({ width: 1000, height: 470 });
      const statuses: number[] = [];
      page.on('response', (r) => { if (r.url().includes('/api/sample')) statuses.push(r.status()); });
      await page.goto(server.url);
      await page.waitForFunction(() => /step 100/.test(document.querySelector('#run-status')!.textContent!), { timeout: 10000 });
      t.pass('the page shows the checkpoint (step 100)');

      // ---- a sample: streamed, shaded, totals
      await page.type('textarea[name=prime]', 'the ');
      await page.$eval('input[name=length]', (e) => { (e as any).value = '160'; });
      await page.type('input[name=seed]', '5');
      await page.click('#generate');
      await page.waitForFunction(() => document.querySelector('#sample-totals')!.textContent!.includes('log-probability'), { timeout: 20000 });
      const spans = await page.$$eval('#sample-out .gen .ch', (els) => els.map((e) => ({
        text: e.textContent, p: Number((e as any).dataset.p), bg: getComputedStyle(e).backgroundColor,
      })));
      t.ok(spans.length > 100, `${spans.length} shaded characters`);
      t.ok(spans.every((s) => s.p > 0 && s.p <= 1), 'each carries its probability in (0, 1]');
      const low = spans.reduce((a, b) => (b.p < a.p ? b : a)), high = spans.reduce((a, b) => (b.p > a.p ? b : a));
      const alpha = (c: string) => { const m = /rgba?\(([^)]+)\)/.exec(c)!; const v = m[1]!.split(',').map(Number); return v.length === 4 ? v[3]! : 1; };
      t.ok(alpha(low.bg) > alpha(high.bg) + 0.3, `a rare character (p ${low.p.toFixed(3)}, ${low.bg}) is shaded much more than a likely one (p ${high.p.toFixed(3)}, ${high.bg})`);
      const totals = await page.$eval('#sample-totals', (e) => e.textContent!);
      const api = await (await fetch(server.url + 'api/sample', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prime: 'the ', length: 160, seed: 5 }) })).json() as { logProb: number; entropy: number; text: string; tokens: unknown[] };
      t.ok(totals.startsWith(`seed 5, ${api.tokens.length} tokens`), `totals: ${totals}`);
      t.ok(totals.includes(`log-probability ${api.logProb.toFixed(3)} nats, mean entropy ${api.entropy.toFixed(3)} nats`), 'the same totals as the API (and the CLI) for the same request');
      const shown = await page.$eval('#sample-out .gen', (e) => e.textContent!);
      t.equal(shown, api.text, 'the page shows the same text as the API');

      // ---- hover: top-5 alternatives and entropy
      const handles = await page.$$('#sample-out .gen .ch');
      const target = handles[Math.min(40, handles.length - 1)]!;
      await target.hover();
      await page.waitForSelector('#tooltip:not([hidden])', { timeout: 5000 });
      const tip = await page.$eval('#tooltip', (e) => ({
        head: e.querySelector('.head')!.textContent!,
        rows: [...e.querySelectorAll('tr')].map((r) => [...r.querySelectorAll('td')].map((d) => d.textContent!)),
        drawn: e.querySelectorAll('tr.drawn').length,
      }));
      t.equal(tip.rows.length, 5, 'five alternatives');
      t.match(tip.head, /p = \d+\.\d% {2}· {2}entropy \d+\.\d{3} nats/, `tooltip head: ${tip.head}`);
      const ps = tip.rows.map((r) => parseFloat(r[1]!));
      t.ok(ps.every((p, i) => i === 0 || p <= ps[i - 1]!) && ps.reduce((a, b) => a + b, 0) <= 100.5, `probabilities sorted, at most 100% in all: ${ps.join(', ')}`);
      await page.screenshot({ path: join(SHOTS, 'serve-sample.png') });

      // ---- a bad parameter: the server's message on the page, HTTP 400
      await page.$eval('input[name=temperature]', (e) => { (e as any).value = '-1'; });
      statuses.length = 0;
      await page.click('#generate');
      await page.waitForSelector('#sample-error:not([hidden])', { timeout: 5000 });
      const err = await page.$eval('#sample-error', (e) => e.textContent!);
      t.match(err, /'temperature' must be a number ≥ 0/, `error on the page: ${err}`);
      t.deepEqual(statuses, [400], 'from an HTTP 400');
      await page.$eval('input[name=temperature]', (e) => { (e as any).value = '0.8'; });

      // ---- chat panel: off for this run (not trained on conversations)
      await page.click('[data-panel=chat]');
      const chatNote = await page.$eval('#chat-note', (e) => e.textContent!);
      t.ok(/trained in 'text' mode/.test(chatNote) && await page.$eval('#chat-input', (e) => (e as any).disabled), `chat: ${chatNote}`);
      await page.click('[data-panel=sample]');

      // ---- chat on a run trained on conversations: a reply, then a second one in the same conversation
      const turns = join(root, 'turns');
      const convo = 'them: are you coming tonight?\nme: yes! 10 min\nme: save me a seat\n\nthem: happy birthday!!\nme: thank you so much\n\n';
      await trainCharRNN({ ...DEFAULT_TRAIN_OPTIONS, text: convo.repeat(15), out: turns, mode: 'turns', hidden: 32, embed: 16, layers: 1, seq: 48, batch: 8, steps: 60, lr: 0.01, device: 'ref', quiet: true, evalEvery: 0, saveEvery: 0, sampleEvery: 0 }, { log: () => {} });
      const chatServer = await startServer({ dir: turns, port: 0, device: 'ref' });
      try {
        const cp = await browser.newPage();
        await cp.setViewport({ width: 1000, height: 600 });
        await cp.goto(chatServer.url + '#chat');
        await cp.waitForFunction(() => !document.querySelector('#chat-input').disabled, { timeout: 10000 });
        const sessions: string[] = [];
        cp.on('response', async (r) => { if (r.url().endsWith('/api/chat')) sessions.push((await r.json()).session); });
        for (const [i, msg] of ['are you coming tonight?', 'happy birthday!!'].entries()) {
          await cp.type('#chat-input', msg);
          await cp.click('#chat-send');
          await cp.waitForFunction((n) => document.querySelectorAll('#chat-log .msg.model').length === n, { timeout: 15000 }, i + 1);
        }
        const log = await cp.$$eval('#chat-log .msg', (els) => els.map((e) => [e.className, e.textContent]));
        t.deepEqual(log.map((m) => m[0]), ['msg you', 'msg model', 'msg you', 'msg model'], `chat: ${JSON.stringify(log)}`);
        t.ok(sessions.length === 2 && sessions[0] === sessions[1], 'both messages in one conversation (the state is carried)');
        await cp.screenshot({ path: join(SHOTS, 'serve-chat.png') });
        await cp.close();
      } finally {
        await chatServer.close();
      }

      // ---- a closed tab stops its generation
      await page.$eval('input[name=length]', (e) => { (e as any).value = '5000'; });
      await page.click('#generate');
      await page.waitForFunction(() => document.querySelectorAll('#sample-out .gen .ch').length > 20, { timeout: 10000 });
      t.equal(server.stats().active, 1, 'a long generation is running');
      await page.close();
      let waited = 0;
      while (server.stats().active > 0 && waited < 5000) { await sleep(25); waited += 25; }
      t.equal(server.stats().active, 0, `closing the tab ended it (${waited} ms)`);
      const steps = server.stats().steps;
      await sleep(200);
      t.equal(server.stats().steps, steps, 'no more steps after that');

      // ---- train --serve: the loss plot grows while the run trains
      const corpus = join(root, 'corpus.txt');
      writeFileSync(corpus, TEXT);
      const live = join(root, 'live');
      const proc = spawn(process.execPath, [MAIN, 'train', corpus, '--out', live, '--serve', '--port', '0', '--device', 'ref', '--quiet',
        '--hidden', '32', '--embed', '16', '--layers', '1', '--seq', '48', '--batch', '8', '--steps', '150', '--lr', '0.01',
        '--eval-every', '15', '--save-every', '50', '--sample-every', '50', '--sample-length', '60'], { env: { ...process.env, LSTM_CUDA_DEVICE: 'ref' } });
      let stderr = '';
      child = proc;
      proc.stderr.on('data', (c) => { stderr += c; });
      const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
      for (let i = 0; i < 200 && !/serving '.*' at http/.test(stderr); i++) await sleep(50);
      const url = /at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stderr)?.[1];
      t.ok(url, `train --serve printed its address: ${url}`);
      const p2 = await browser.newPage();
      await p2.setViewport({ width: 1000, height: 900 });
      await p2.goto(url + '#training');
      const points = () => p2.$eval('#loss-plot', (e) => Number((e as any).dataset.trainPoints));
      await p2.waitForFunction(() => Number((document.querySelector('#loss-plot') as any).dataset.trainPoints) > 0, { timeout: 20000 });
      const first = await points();
      await p2.waitForFunction((n) => Number((document.querySelector('#loss-plot') as any).dataset.trainPoints) > n + 10, { timeout: 30000 }, first);
      const later = await points();
      t.ok(later > first + 10 && !/still serving/.test(stderr), `the plot grew from ${first} to ${later} points while training ran`);
      for (let i = 0; i < 600 && !/still serving/.test(stderr); i++) await sleep(50);
      t.match(stderr, /done: step 150/, 'training finished');
      await p2.waitForFunction(() => Number((document.querySelector('#loss-plot') as any).dataset.trainPoints) === 150, { timeout: 10000 });
      t.pass('all 150 train points plotted');
      await p2.waitForFunction(() => document.querySelectorAll('#previews .preview').length >= 2, { timeout: 10000 });
      t.ok((await p2.$$eval('#loss-plot circle.val', (e) => e.length)) >= 9, 'validation points plotted');
      t.match(await p2.$eval('#run-status', (e) => e.textContent!), /step 150/, 'the page follows the checkpoint the training saved');
      await p2.screenshot({ path: join(SHOTS, 'serve-training.png') });
      proc.kill('SIGINT');
      t.equal(await exited, 0, 'train --serve exits 0 on Ctrl-C after training');
      child = undefined;
    } finally {
      child?.kill('SIGKILL');
      await browser.close();
      await server.close();
    }
    t.end();
  });
}
