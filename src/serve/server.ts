// `lstm-cuda serve`: one local page (src/serve/page/, plain HTML/JS/CSS, no build step) over a JSON API.
//
//   GET  /api/run            the run: checkpoint (step, config, vocabulary, device), training options,
//                            loss points (train, val), latest sample previews
//   GET  /api/run/events     server-sent events: `log` (new log.jsonl entries), `checkpoint` (a reload)
//   POST /api/sample         JSON body { prime, length, temperature, topK, topP, seed, beam, alternatives }
//                            → the whole sample as `lstm-cuda sample --json` prints it, plus each step's
//                            most probable alternatives; beam > 1: the best beam-search hypothesis, the
//                            others in `beams`
//   POST /api/sample/stream  the same body → server-sent events: `start` { seed, step }, one `token` per
//                            step { token, char, stop, logp, entropy, alternatives }, then `done` (the
//                            totals) or `error`
//   POST /api/chat           { message, session?, temperature?, seed? } → { session, reply, messages,
//                            logProb, entropy, ended, step } (a run trained with --mode turns only); the
//                            conversation's state is kept under `session` (a new one when absent or expired)
// Bad parameters are HTTP 400 with { error } naming the field. Generation yields to the event loop
// after every step (and waits while a slow client's socket is full), so clients do not block each other;
// a client that goes away stops its generation at the next step.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { DeviceName } from '../backend.js';
import { generate, type SampleTextResult, type GeneratedStep } from '../sample/sample.js';
import { beamSearch } from '../sample/beam.js';
import { ChatSessions } from './chat_sessions.js';
import { ParamError, parseSampleParams, parseChatParams, type SampleParams } from './params.js';
import { RunView, checkRunDir, type LogEntry, type ModelLease } from './run_view.js';
import { checkObject } from '../args.js';

export interface ServeOptions {
  /** run directory */
  dir: string;
  /** default 8765; 0 = any free port */
  port?: number;
  /** default 127.0.0.1 */
  host?: string;
  /** a host that is not a loopback address is refused unless this is set (the CLI: --host given) */
  allowNonLoopback?: boolean;
  device?: DeviceName;
  /** train --serve: the run may have no checkpoint yet (the page says so until the first save) */
  allowMissingCheckpoint?: boolean;
  /** most generations at once (default 16); more get 503 */
  maxGenerations?: number;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8765/ */
  url: string;
  port: number;
  host: string;
  /** generations in progress and steps generated since the start (tests watch them) */
  stats(): { active: number; steps: number };
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8765;
const MAX_BODY = 1 << 20;

/** 127.0.0.0/8, ::1 and localhost */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '::ffff:127.0.0.1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}

/**
 * The page's files, read once. They are not compiled: the server finds them in the package's src/
 * (shipped), two levels above dist/serve/ and three above build/src/serve/ (the test build).
 */
function pageFiles(): Record<string, { type: string; body: Buffer }> {
  const dir = ['../../src/serve/page/', '../../../src/serve/page/']
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
    .find((d) => existsSync(join(d, 'index.html')));
  if (!dir) throw new Error(`serve: the page's files (src/serve/page/index.html) are missing from this installation`);
  const read = (name: string) => readFileSync(join(dir, name));
  return {
    '/': { type: 'text/html; charset=utf-8', body: read('index.html') },
    '/app.js': { type: 'text/javascript; charset=utf-8', body: read('app.js') },
    '/style.css': { type: 'text/css; charset=utf-8', body: read('style.css') },
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

function readBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolveBody, reject) => {
    const type = req.headers['content-type'] ?? '';
    // a JSON content type also keeps other web pages out: a cross-origin JSON POST needs a preflight we never grant
    if (!/^application\/json\b/i.test(type)) {
      reject(new ParamError(`the request body must be JSON with content-type application/json, got '${type || 'none'}'`));
      req.resume();
      return;
    }
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new ParamError(`the request body is larger than ${MAX_BODY} bytes`)); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolveBody(text.trim() === '' ? {} : JSON.parse(text));
      } catch (e) {
        reject(new ParamError(`the request body is not valid JSON: ${(e as Error).message}`));
      }
    });
    req.on('error', reject);
  });
}

/** what the page and the API report for one step */
function stepJson(t: GeneratedStep, stopId: number): Record<string, unknown> {
  return { token: t.token, char: t.char, stop: t.token === stopId, logp: t.logp, entropy: t.entropy, ...(t.alternatives ? { alternatives: t.alternatives } : {}) };
}

function totalsJson(r: SampleTextResult, seed: number, prime: string, step: number): Record<string, unknown> {
  return { seed, prime, step, text: r.text, stopped: r.stopped, skipped: r.skipped, tokens: r.tokens.length, logProb: r.logProb, entropy: r.entropy };
}

/** compact run summary: loss points as [step, loss] pairs, the last previews */
function runJson(run: RunView): Record<string, unknown> {
  const info = run.info();
  const log = info.log as LogEntry[];
  delete info.log;
  const ck = info.checkpoint as { config: { mode: string } } | null;
  const chat = ck?.config.mode === 'turns'
    ? { available: true, note: 'You write as the other side of the conversation; the model answers in the voice it was trained on.' }
    : { available: false, note: ck ? `Chat needs a run trained on conversations (lstm-cuda prepare --turns, then train on its output); this one was trained in '${ck.config.mode}' mode.` : 'No checkpoint yet.' };
  return { ...info, ...summariseLog(log), chat };
}

function summariseLog(log: LogEntry[]): { train: [number, number][]; val: [number, number][]; samples: { step: number; text: string }[]; events: LogEntry[] } {
  const train: [number, number][] = [];
  const val: [number, number][] = [];
  const samples: { step: number; text: string }[] = [];
  const events: LogEntry[] = [];
  for (const e of log) {
    if (e.type === 'train' && typeof e.loss === 'number') train.push([e.step, e.loss]);
    else if (e.type === 'val' && typeof e.valLoss === 'number') val.push([e.step, e.valLoss]);
    else if (e.type === 'sample' && typeof e.text === 'string') samples.push({ step: e.step, text: e.text });
    else if (e.type === 'event') events.push(e);
  }
  return { train, val, samples: samples.slice(-5), events };
}

function sseHeaders(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
  res.flushHeaders();
}

/** writes one event; resolves when the socket can take more (a slow client pauses only its own stream) */
function sseSend(res: ServerResponse, event: string, data: unknown): Promise<void> {
  const ok = res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  if (ok || res.destroyed) return Promise.resolve();
  return new Promise((r) => { const done = () => { res.off('drain', done); res.off('close', done); r(); }; res.on('drain', done); res.on('close', done); });
}

const nextTick = () => new Promise<void>((r) => setImmediate(r));

/**
 * One generation, stepped with a yield to the event loop after each token. `onStep` may wait (a full
 * socket); `gone()` true stops it before the next step. Releases the model lease in every case.
 */
async function runGeneration(
  lease: ModelLease, p: SampleParams, seed: number, onStep: (t: GeneratedStep) => Promise<void> | void, gone: () => boolean,
): Promise<SampleTextResult | null> {
  const g = generate(lease.model, lease.vocab, {
    prime: p.prime, maxLength: p.length, temperature: p.temperature, topK: p.topK, topP: p.topP, seed,
    mode: lease.config.mode, alternatives: p.alternatives, onWarning: () => {},
  });
  try {
    for (;;) {
      if (gone()) { g.return(undefined as never); return null; }
      const r = g.next();
      if (r.done) return r.value;
      await onStep(r.value);
      await nextTick();
    }
  } finally {
    lease.release();
  }
}

/**
 * Beam search for the page and the API: the best hypothesis as steps (its per-token log-probabilities;
 * no entropy or alternatives: beam search ranks whole continuations), the others in `beams`. Runs in one
 * go (bounded by MAX_BEAM × MAX_BEAM_LENGTH).
 */
function runBeam(lease: ModelLease, p: SampleParams): { steps: GeneratedStep[]; result: SampleTextResult; beams: { text: string; logProb: number; score: number; stopped: boolean }[] } {
  try {
    const { beams, skipped } = beamSearch(lease.model, lease.vocab, { beam: p.beam, prime: p.prime, maxLength: p.length, mode: lease.config.mode, onWarning: () => {} });
    const best = beams[0]!;
    const dec = lease.vocab.streamDecoder();
    const steps: GeneratedStep[] = best.tokens.map((token, i) => ({ token, char: token === lease.vocab.stopId ? '' : dec.push(token), logp: best.logps[i]!, entropy: NaN }));
    if (steps.length) steps[steps.length - 1]!.char += dec.flush();
    return {
      steps,
      result: { text: best.text, tokens: best.tokens, perToken: steps, logProb: best.logProb, entropy: NaN, skipped, stopped: best.stopped },
      beams: beams.map((b) => ({ text: b.text, logProb: b.logProb, score: b.score, stopped: b.stopped })),
    };
  } finally {
    lease.release();
  }
}

export async function startServer(opts: ServeOptions): Promise<RunningServer> {
  checkObject('startServer: options', opts);
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && !opts.allowNonLoopback) {
    throw new Error(`refusing to serve on '${host}': it is not a loopback address, so other machines could use the page; name it explicitly with --host ${host} to do that`);
  }
  const port = opts.port ?? DEFAULT_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port must be an integer in [0, 65535], got ${port}`);
  if (!opts.allowMissingCheckpoint) checkRunDir(opts.dir);
  const run = new RunView(opts.dir, { device: opts.device });
  if (!opts.allowMissingCheckpoint) {
    run.refresh();
    run.acquire().release(); // a checkpoint that does not load is an error now, not on the first request
  }
  const files = pageFiles();
  const maxGen = opts.maxGenerations ?? 16;
  let active = 0;
  let totalSteps = 0;
  const openStreams = new Set<ServerResponse>();
  const chats = new ChatSessions();

  const sample = async (req: IncomingMessage, res: ServerResponse, stream: boolean) => {
    const p = parseSampleParams(await readBody(req));
    if (active >= maxGen) { sendJson(res, 503, { error: `busy: ${active} generations in progress (at most ${maxGen}); try again shortly` }); return; }
    let lease: ModelLease;
    try {
      lease = run.acquire();
    } catch (e) {
      sendJson(res, 503, { error: (e as Error).message });
      return;
    }
    const seed = p.seed ?? Math.floor(Math.random() * 2 ** 32);
    let closed = false;
    res.on('close', () => { closed = true; });
    const stopId = lease.vocab.stopId;
    // one producer for both replies: sampling steps as they are drawn, or a beam search's best hypothesis
    const produce = async (onStep: (t: GeneratedStep) => Promise<void> | void): Promise<{ r: SampleTextResult; extra: Record<string, unknown> } | null> => {
      const counted = (t: GeneratedStep) => { totalSteps++; return onStep(t); };
      if (p.beam === 1) {
        const r = await runGeneration(lease, p, seed, counted, () => closed);
        return r && { r, extra: {} };
      }
      const b = runBeam(lease, p);
      for (const t of b.steps) { if (closed) return null; await counted(t); }
      return { r: b.result, extra: { beam: p.beam, beams: b.beams } };
    };
    active++;
    try {
      if (stream) {
        sseHeaders(res);
        openStreams.add(res);
        await sseSend(res, 'start', { seed, step: lease.step, prime: p.prime, beam: p.beam });
        let out: Awaited<ReturnType<typeof produce>>;
        try {
          out = await produce((t) => sseSend(res, 'token', stepJson(t, stopId)));
        } catch (e) {
          if (!closed) await sseSend(res, 'error', { error: (e as Error).message });
          out = null;
        }
        if (out && !closed) await sseSend(res, 'done', { ...totalsJson(out.r, seed, p.prime, lease.step), ...out.extra });
        openStreams.delete(res);
        res.end();
      } else {
        const steps: Record<string, unknown>[] = [];
        const out = await produce((t) => { steps.push(stepJson(t, stopId)); });
        if (out && !closed) sendJson(res, 200, { ...totalsJson(out.r, seed, p.prime, lease.step), ...out.extra, tokens: steps });
      }
    } finally {
      active--;
    }
  };

  const chatReply = async (req: IncomingMessage, res: ServerResponse) => {
    const p = parseChatParams(await readBody(req));
    const info = run.info().checkpoint as { config: { mode: string } } | null;
    if (info && info.config.mode !== 'turns') {
      throw new ParamError(`chat: this run was trained in '${info.config.mode}' mode; chat needs a run trained on conversations (lstm-cuda prepare --turns, then train on its output)`);
    }
    let out;
    try {
      out = chats.reply(p.session, p.message, () => run.acquire(), { temperature: p.temperature, seed: p.seed });
    } catch (e) {
      sendJson(res, 503, { error: (e as Error).message });
      return;
    }
    const r = out.reply;
    sendJson(res, 200, { session: out.session, fresh: out.fresh, step: out.step, reply: r.text, messages: r.messages, logProb: r.logProb, entropy: r.entropy, ended: r.ended, skipped: r.skipped });
  };

  const runEvents = (res: ServerResponse) => {
    sseHeaders(res);
    openStreams.add(res);
    const unsubscribe = run.subscribe((e) => {
      if (e.kind === 'log') void sseSend(res, 'log', e.entries.length ? e.entries : { reset: true });
      else void sseSend(res, 'checkpoint', runJson(run));
    });
    const beat = setInterval(() => res.write(': keep-alive\n\n'), 15000);
    beat.unref();
    res.on('close', () => { unsubscribe(); clearInterval(beat); openStreams.delete(res); });
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    // a page on another site that resolves its own name to 127.0.0.1 (DNS rebinding) sends its own Host
    const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (isLoopback(host) && !isLoopback(hostHeader)) { sendJson(res, 403, { error: `Host '${req.headers.host}' is not this machine` }); return; }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const route = `${req.method} ${path}`;
    const file = files[path === '/index.html' ? '/' : path];
    if (req.method === 'GET' && file) {
      res.writeHead(200, { 'content-type': file.type, 'cache-control': 'no-cache', 'content-length': file.body.length });
      res.end(file.body);
      return;
    }
    switch (route) {
      case 'GET /favicon.ico': res.writeHead(204).end(); return;
      case 'GET /api/run': sendJson(res, 200, runJson(run)); return;
      case 'GET /api/run/events': runEvents(res); return;
      case 'POST /api/sample': await sample(req, res, false); return;
      case 'POST /api/sample/stream': await sample(req, res, true); return;
      case 'POST /api/chat': await chatReply(req, res); return;
    }
    const known = ['/api/run', '/api/run/events', '/api/sample', '/api/sample/stream', '/api/chat'];
    if (known.includes(path)) sendJson(res, 405, { error: `${req.method} is not allowed on ${path}` });
    else sendJson(res, 404, { error: `no such page or endpoint: ${path}` });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      const status = e instanceof ParamError ? 400 : 500;
      if (!res.headersSent) sendJson(res, status, { error: (e as Error).message });
      else res.end();
    });
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      run.close();
      fail(e.code === 'EADDRINUSE' ? new Error(`port ${port} on ${host} is in use; choose another with --port N (0 = any free port)`)
        : e.code === 'EADDRNOTAVAIL' ? new Error(`cannot listen on '${host}': not an address of this machine`)
          : e);
    });
    server.listen(port, host, () => ok());
  });
  const addr = server.address();
  const boundPort = typeof addr === 'object' && addr ? addr.port : port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${shownHost}:${boundPort}/`,
    port: boundPort,
    host,
    stats: () => ({ active, steps: totalSteps }),
    close: () => new Promise<void>((done) => {
      for (const r of openStreams) r.end();
      server.close(() => { chats.close(); run.close(); done(); });
      server.closeAllConnections();
    }),
  };
}
