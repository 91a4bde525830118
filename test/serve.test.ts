// The serve JSON API (src/serve/server.ts) over a tiny model trained here on ref: the run summary, a
// whole and a streamed sample (per-step alternatives, totals as `sample --json` reports them), bad
// parameters (HTTP 400 naming the field), beam search, chat on a conversation-trained run, start-up errors (no checkpoint, corrupt file, non-loopback
// host, port in use), a foreign Host header, concurrent clients interleaving (one slow client does not
// hold up another), a client that disconnects mid-stream (its generation stops), and a training that
// writes into the run while it is served (log events, checkpoint reload).
import test from 'tape';
import { request } from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { trainCharRNN, DEFAULT_TRAIN_OPTIONS } from '../src/train/trainer.js';
import { startServer, type RunningServer } from '../src/serve/server.js';

const root = mkdtempSync(join(tmpdir(), 'lstm-serve-'));
const run = join(root, 'run');
const TEXT = 'the meaning of life is to train a model\nthe cat sat on the mat\n'.repeat(20);
const FIXTURE = {
  ...DEFAULT_TRAIN_OPTIONS, text: TEXT, out: run, hidden: 24, embed: 8, layers: 1, seq: 32, batch: 8, steps: 40,
  lr: 0.01, device: 'ref' as const, quiet: true, evalEvery: 10, saveEvery: 20, sampleEvery: 20, sampleLength: 30,
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function post(base: string, path: string, body: unknown, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<{ status: number; json: any; text: string }> {
  const res = await fetch(base + path, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  let json: any;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, json, text };
}

/** parses a text/event-stream body */
function events(text: string): { event: string; data: any }[] {
  return text.split('\n\n').filter((b) => b.includes('data: ')).map((b) => ({
    event: /^event: (.*)$/m.exec(b)![1]!,
    data: JSON.parse(/^data: (.*)$/m.exec(b)![1]!),
  }));
}

/** a streamed sample read with node:http, so a test can pause or drop the socket */
function openStream(base: string, body: unknown): Promise<{ req: ReturnType<typeof request>; res: import('node:http').IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const s = JSON.stringify(body);
    const req = request(base + 'api/sample/stream', { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) } }, (res) => resolve({ req, res }));
    req.on('error', reject);
    req.end(s);
  });
}

let server: RunningServer;
let base = '';

test('serve: fixture model; GET /api/run reports the checkpoint, options and loss points', async (t) => {
  const r = await trainCharRNN(FIXTURE, { log: () => {} });
  t.equal(r.status, 'done', 'fixture trained');
  server = await startServer({ dir: run, port: 0, device: 'ref' });
  base = server.url;
  t.match(base, /^http:\/\/127\.0\.0\.1:\d+\/$/, 'loopback by default');
  const info = await (await fetch(base + 'api/run')).json() as any;
  t.equal(info.checkpoint.step, 40, 'checkpoint step');
  t.equal(info.checkpoint.device, 'ref');
  t.equal(info.checkpoint.config.hiddenSize, 24);
  t.equal(info.options.steps, 40, 'training options from train_state.json');
  t.equal(info.train.length, 40, 'one train point per step');
  t.equal(info.val.length, 4, 'val points every 10 steps');
  t.equal(info.samples.length, 2, 'sample previews the trainer logged');
  t.equal(typeof info.samples[0].text, 'string');
  const page = await fetch(base);
  t.equal(page.status, 200);
  t.match(await page.text(), /<title>lstm-cuda<\/title>/, 'the page');
  t.equal((await fetch(base + 'app.js')).headers.get('content-type'), 'text/javascript; charset=utf-8', 'its script');
  t.end();
});

test('serve: POST /api/sample is `sample --json` plus top-5 alternatives; the stream carries the same steps', async (t) => {
  const body = { prime: 'the ', length: 30, temperature: 0.9, topK: 5, seed: 7 };
  const a = await post(base, 'api/sample', body);
  t.equal(a.status, 200);
  const j = a.json;
  t.equal(j.seed, 7);
  t.equal(j.tokens.length, 30);
  t.equal(j.text, j.tokens.map((x: any) => x.char).join(''), 'text = the steps joined');
  t.ok(Math.abs(j.logProb - j.tokens.reduce((s: number, x: any) => s + x.logp, 0)) < 1e-9, 'logProb = Σ logp');
  t.ok(Math.abs(j.entropy - j.tokens.reduce((s: number, x: any) => s + x.entropy, 0) / 30) < 1e-9, 'entropy = mean');
  t.ok(j.tokens.every((x: any) => x.alternatives.length === 5 && x.alternatives.some((y: any) => y.token === x.token)), 'five alternatives per step, the drawn one among them (top-k 5)');
  t.ok(j.tokens.every((x: any) => x.alternatives.every((y: any, i: number, arr: any[]) => i === 0 || y.p <= arr[i - 1].p)), 'most probable first');
  const same = await post(base, 'api/sample', body);
  t.equal(same.json.text, j.text, 'same seed, same text');
  const s = await post(base, 'api/sample/stream', body);
  t.equal(s.status, 200);
  const ev = events(s.text);
  t.equal(ev[0]!.event, 'start');
  t.equal(ev[0]!.data.seed, 7);
  const toks = ev.filter((e) => e.event === 'token').map((e) => e.data);
  t.deepEqual(toks.map((x) => x.token), j.tokens.map((x: any) => x.token), 'streamed steps = the whole sample');
  const done = ev[ev.length - 1]!;
  t.equal(done.event, 'done');
  t.equal(done.data.text, j.text);
  t.equal(done.data.logProb, j.logProb);
  const noSeed = await post(base, 'api/sample', { length: 5 });
  t.ok(Number.isInteger(noSeed.json.seed), 'no seed: a random one, reported');
  t.end();
});

test('serve: bad parameters are HTTP 400 with a message naming the field', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ temperature: 'abc' }, /'temperature' must be a number ≥ 0 and ≤ 100, got "abc"/],
    [{ temperature: -1 }, /'temperature' must be/],
    [{ length: 0 }, /'length' must be an integer ≥ 1 and ≤ 5000, got 0/],
    [{ length: 1e9 }, /'length' must be/],
    [{ length: 2.5 }, /'length' must be an integer/],
    [{ topP: 0 }, /'topP' must be a number > 0 and ≤ 1, got 0/],
    [{ topK: -1 }, /'topK' must be an integer ≥ 0/],
    [{ seed: 2 ** 32 }, /'seed' must be an integer ≥ 0 and ≤ 4294967295/],
    [{ prime: 5 }, /'prime' must be a string/],
    [{ temprature: 1 }, /unknown field 'temprature' \(known: prime, length, temperature/],
    [{ beam: 9 }, /'beam' must be an integer ≥ 1 and ≤ 8, got 9/],
    [{ beam: 2, length: 1000 }, /with beam 2, 'length' must be ≤ 500/],
    [[1, 2], /must be a JSON object, got an array/],
    ['{"length": ', /not valid JSON/],
  ];
  for (const [body, re] of cases) {
    for (const path of ['api/sample', 'api/sample/stream']) {
      const r = await post(base, path, body);
      t.equal(r.status, 400, `${path} ${JSON.stringify(body)} → 400`);
      t.match(r.json?.error ?? r.text, re, `  ${r.json?.error}`);
    }
  }
  const plain = await post(base, 'api/sample', { length: 3 }, { 'content-type': 'text/plain' });
  t.equal(plain.status, 400, 'a non-JSON content type (what a cross-site form could send) → 400');
  t.match(plain.json.error, /content-type application\/json/);
  t.equal((await fetch(base + 'api/sample')).status, 405, 'GET on a POST endpoint → 405');
  t.equal((await fetch(base + 'api/nothing')).status, 404, 'unknown path → 404');
  const chat = await post(base, 'api/chat', { nope: 1 });
  t.equal(chat.status, 400, 'chat: unknown field → 400');
  t.match(chat.json.error, /unknown field 'nope'/);
  const after = await post(base, 'api/sample', { length: 3, seed: 1 });
  t.equal(after.status, 200, 'the server still works');
  t.end();
});

test('serve: beam > 1 is beam search: the best hypothesis as steps with per-token logp, the others in beams', async (t) => {
  const r = await post(base, 'api/sample', { prime: 'the ', length: 20, beam: 3 });
  t.equal(r.status, 200);
  t.equal(r.json.beam, 3);
  t.equal(r.json.beams.length, 3, 'three hypotheses');
  t.equal(r.json.text, r.json.beams[0].text, 'the best one is the text');
  t.ok(r.json.beams.every((b: any, i: number, a: any[]) => i === 0 || b.score <= a[i - 1].score), 'ranked by score');
  t.ok(Math.abs(r.json.logProb - r.json.tokens.reduce((s: number, x: any) => s + x.logp, 0)) < 1e-6, 'logProb = Σ per-token logp');
  t.equal(r.json.text, r.json.tokens.map((x: any) => x.char).join(''));
  const s = events((await post(base, 'api/sample/stream', { prime: 'the ', length: 20, beam: 3 })).text);
  t.deepEqual(s.filter((e) => e.event === 'token').map((e) => e.data.token), r.json.tokens.map((x: any) => x.token), 'streamed the same');
  t.end();
});

test('serve: chat on a run trained on conversations; state carried per session; refused on a text run', async (t) => {
  const turns = join(root, 'turns');
  const convo = 'them: are you coming tonight?\nme: yes! 10 min\nme: save me a seat\n\nthem: happy birthday!!\nme: thank you so much\n\n';
  const r = await trainCharRNN({ ...FIXTURE, text: convo.repeat(15), out: turns, mode: 'turns', steps: 30, evalEvery: 0, sampleEvery: 0 }, { log: () => {} });
  t.equal(r.status, 'done', 'turns fixture trained');
  const chat = await startServer({ dir: turns, port: 0, device: 'ref' });
  try {
    const info = await (await fetch(chat.url + 'api/run')).json() as any;
    t.equal(info.chat.available, true, 'the run summary says chat is available');
    const a = await post(chat.url, 'api/chat', { message: 'are you coming?', seed: 3 });
    t.equal(a.status, 200, `reply: ${JSON.stringify(a.json?.reply ?? a.json)}`);
    t.equal(typeof a.json.reply, 'string');
    t.ok(Array.isArray(a.json.messages) && a.json.messages.join('\n') === a.json.reply, 'reply = its messages');
    t.ok(['turn', 'length', 'messages'].includes(a.json.ended));
    t.equal(a.json.fresh, true, 'a new conversation');
    const b = await post(chat.url, 'api/chat', { message: 'ok see you', session: a.json.session });
    t.equal(b.json.session, a.json.session, 'the same conversation continues');
    t.equal(b.json.fresh, false);
    const c = await post(chat.url, 'api/chat', { message: 'hello', session: 'no-such-session' });
    t.ok(c.json.fresh && c.json.session !== 'no-such-session', 'an unknown session starts a new conversation');
    t.equal((await post(chat.url, 'api/chat', { message: '  ' })).status, 400, 'an empty message → 400');
    t.equal((await post(chat.url, 'api/chat', {})).status, 400, 'no message → 400');
  } finally {
    await chat.close();
  }
  const text = await post(base, 'api/chat', { message: 'hi' });
  t.equal(text.status, 400, 'a text-mode run → 400');
  t.match(text.json.error, /trained in 'text' mode; chat needs a run trained on conversations/);
  t.end();
});

test('serve: a request whose Host is not this machine is refused (DNS rebinding)', async (t) => {
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(base + 'api/run', { headers: { host: 'evil.example:80' } }, (res) => { res.resume(); resolve(res.statusCode!); });
    req.on('error', reject);
    req.end();
  });
  t.equal(status, 403);
  t.end();
});

test('serve: concurrent clients interleave; a stalled client does not hold up another', async (t) => {
  // two streams at once: each receives tokens before the other is done
  const order: string[] = [];
  const counts: Record<string, number> = {};
  const read = async (name: string) => {
    const { res } = await openStream(base, { length: 200, seed: name === 'a' ? 1 : 2, alternatives: 0 });
    let buf = '';
    for await (const chunk of res) {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        if (block.startsWith('event: token')) order.push(name);
        if (block.startsWith('event: done')) { order.push(`${name}-done`); counts[name] = JSON.parse(block.slice(block.indexOf('data: ') + 6)).tokens; }
      }
    }
  };
  await Promise.all([read('a'), read('b')]);
  const aDone = order.indexOf('a-done'), bDone = order.indexOf('b-done');
  t.equal(order.filter((x) => x === 'a').length, counts.a, 'stream a: every token, then the totals');
  t.equal(order.filter((x) => x === 'b').length, counts.b, 'stream b too');
  t.ok(order.slice(0, Math.min(aDone, bDone)).includes('a') && order.slice(0, Math.min(aDone, bDone)).includes('b'),
    'both streams got tokens before the first one finished (generation yields between steps)');

  // a client that stops reading (its stream waits whenever its socket is full): another client is served
  const slow = await openStream(base, { length: 5000, seed: 3, topK: 3, alternatives: 10 });
  slow.res.pause();
  await sleep(300);
  const t0 = Date.now();
  const quick = await post(base, 'api/sample', { length: 50, seed: 4 });
  t.equal(quick.status, 200, `another client's sample while the first is stalled (${Date.now() - t0} ms)`);
  t.equal(server.stats().active, 1, 'while the stalled generation is still open');
  slow.req.destroy();
  slow.res.destroy();
  t.end();
});

test('serve: a client that disconnects mid-stream stops its generation', async (t) => {
  for (let i = 0; i < 50 && server.stats().active > 0; i++) await sleep(20); // the previous test's stream
  const start = server.stats().steps;
  const s = await openStream(base, { length: 5000, seed: 5, topK: 3 });
  let got = 0;
  await new Promise<void>((resolve) => {
    s.res.on('data', (c: Buffer) => {
      got += (c.toString().match(/event: token/g) ?? []).length;
      if (got >= 20) { s.req.destroy(); s.res.destroy(); resolve(); }
    });
  });
  let waited = 0;
  while (server.stats().active > 0 && waited < 3000) { await sleep(20); waited += 20; }
  t.equal(server.stats().active, 0, `generation ended ${waited} ms after the client left`);
  const made = server.stats().steps - start;
  await sleep(200);
  t.equal(server.stats().steps - start, made, 'no steps after that');
  t.ok(made < 5000, `${made} of 5000 steps generated`);
  t.end();
});

test('serve: a training writing into the served run: log events arrive, the checkpoint reloads', async (t) => {
  const ctl = new AbortController();
  const res = await fetch(base + 'api/run/events', { signal: ctl.signal });
  const got: any[] = [];
  let checkpoints = 0, resets = 0;
  const reading = (async () => {
    const dec = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body as any) {
        buf += dec.decode(chunk, { stream: true });
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const m = /^event: (.*)\ndata: (.*)$/m.exec(block);
          if (m?.[1] === 'log') {
            const d = JSON.parse(m[2]!);
            if (Array.isArray(d)) got.push(...d);
            else if (d.reset) { resets++; got.length = 0; }
          }
          if (m?.[1] === 'checkpoint') checkpoints++;
        }
      }
    } catch { /* aborted */ }
  })();
  const r = await trainCharRNN({ ...FIXTURE, steps: 70, resume: true }, { log: () => {} });
  t.equal(r.status, 'done');
  for (let i = 0; i < 50 && got.filter((e) => e.type === 'train').length < 70; i++) await sleep(50);
  const steps = got.filter((e) => e.type === 'train').map((e) => e.step);
  t.equal(resets, 1, '--resume rewrites log.jsonl (kept lines + new ones): one reset event');
  t.deepEqual(steps, Array.from({ length: 70 }, (_, i) => 1 + i), 'then every train step of the rewritten log arrived, in order');
  t.ok(got.some((e) => e.type === 'val' && e.step === 50), 'val entries too');
  t.ok(got.some((e) => e.type === 'sample' && e.step === 60), 'and sample previews');
  for (let i = 0; i < 50 && checkpoints === 0; i++) await sleep(50);
  t.ok(checkpoints > 0, 'a checkpoint event');
  const s = await post(base, 'api/sample', { length: 5, seed: 1 });
  t.equal(s.json.step, 70, 'samples come from the reloaded checkpoint');
  ctl.abort();
  await reading;
  t.end();
});

test('serve: start-up errors are clear', async (t) => {
  const msg = async (o: Parameters<typeof startServer>[0]) => {
    try { const s = await startServer(o); await s.close(); return 'started'; } catch (e) { return (e as Error).message; }
  };
  t.match(await msg({ dir: join(root, 'nope'), port: 0 }), /run directory '.*nope' does not exist/);
  mkdirSync(join(root, 'empty'));
  t.match(await msg({ dir: join(root, 'empty'), port: 0 }), /is not a checkpoint: it has no model\.safetensors \(train one with: lstm-cuda train FILE --out/);
  mkdirSync(join(root, 'bad'));
  writeFileSync(join(root, 'bad', 'model.safetensors'), 'not a safetensors file');
  t.match(await msg({ dir: join(root, 'bad'), port: 0 }), /model\.safetensors/, 'a corrupt checkpoint names the file');
  t.match(await msg({ dir: run, port: 0, host: '0.0.0.0' }), /refusing to serve on '0\.0\.0\.0': it is not a loopback address.*--host 0\.0\.0\.0/);
  const taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
  const port = (taken.address() as { port: number }).port;
  t.match(await msg({ dir: run, port }), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use; choose another with --port N`));
  taken.close();
  t.equal(await msg({ dir: join(root, 'not-yet'), port: 0, allowMissingCheckpoint: true }), 'started', 'train --serve: no checkpoint yet is fine');
  t.end();
});

test('serve: close', async (t) => {
  await server.close();
  t.pass('closed');
  t.end();
});
