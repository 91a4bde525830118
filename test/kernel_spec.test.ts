// The kernel spec's one checker, on every backend present: each bad call of test/bad_calls.ts gets the same
// error type and message on ref, emu and cuda (the backend's name aside), in process and in child
// processes (no call through an exported backend object kills the process: each child exits normally
// with the Error); the numeric edge cases the backends used to disagree on (a row of -inf in
// softmax-xent) give the same values; every native addon exports exactly the spec's kernels.
import test from 'tape';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import type { Backend } from '../src/backend.js';
import { addonPath } from '../src/native.js';
import { KERNEL_NAMES } from '../src/spec/check.js';
import { BAD_CALLS, expectedMessage } from './bad_calls.js';
import { NATIVE_BACKENDS, forEachNativeBackend, presentBackends } from './native_backends.js';

const root = resolve(import.meta.dirname, '..', '..');
const backends = presentBackends();

test('every bad call: the same error type and message on every backend', (t) => {
  t.ok(backends.length >= 2, `backends compared: ${backends.map((b) => b.name).join(', ')}`);
  for (const c of BAD_CALLS) {
    for (const be of backends) {
      const args = c.args(be);
      let err: unknown = null;
      try { (be[c.kernel] as (a: unknown) => void)(args); } catch (e) { err = e; }
      const want = expectedMessage(be, c);
      t.ok(err instanceof Error && err.constructor.name === c.type && err.message === want,
        `${be.name}: ${c.name}: ${c.type} "${want}"${err instanceof Error && err.message !== want ? ` (got ${err.constructor.name} "${err.message}")` : ''}`);
    }
  }
  for (const be of backends) {
    const A = be.upload(Float32Array.of(1, 2)), B = be.upload(Float32Array.of(3, 4)), C = be.alloc('float32', 1);
    be.gemm({ transA: false, transB: false, M: 1, N: 1, K: 2, alpha: 1, beta: 0, A, B, C });
    t.equal(be.download(C)[0], 11, `${be.name}: still computes after every refusal`);
    for (const s of [A, B, C]) be.free(s);
  }
  t.end();
});

/** Runs `node build/test/bad_call_child.js name i`; resolves with its exit status, signal and output. */
function child(name: string, i: number): Promise<{ status: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((done) => {
    const p = spawn(process.execPath, [join(root, 'build', 'test', 'bad_call_child.js'), name, String(i)], { cwd: root });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('close', (status, signal) => done({ status, signal, out, err }));
  });
}

test('every bad call in a child process on every backend: the child exits normally with the Error', async (t) => {
  const jobs = backends.flatMap((be) => BAD_CALLS.map((c, i) => ({ be, c, i })));
  const results = new Array<Awaited<ReturnType<typeof child>>>(jobs.length);
  let next = 0;
  const worker = async () => {
    for (let j = next++; j < jobs.length; j = next++) results[j] = await child(jobs[j].be.name, jobs[j].i);
  };
  await Promise.all([worker(), worker(), worker()]);
  jobs.forEach(({ be, c }, j) => {
    const r = results[j];
    let got: { threw?: boolean; type?: string; message?: string } = {};
    try { got = JSON.parse(r.out); } catch { /* reported below */ }
    t.ok(r.signal === null && r.status === 0 && got.threw === true && got.type === c.type && got.message === expectedMessage(be, c),
      `${be.name}: ${c.name}: exit ${r.status}, signal ${r.signal}, ${got.type} "${got.message}"${r.err ? ` stderr: ${r.err.slice(-300)}` : ''}`);
  });
});

test('softmax-xent over a row of -inf: lse = -inf, loss NaN (0 when ignored), on every backend', (t) => {
  for (const be of backends) {
    const ninf = -Infinity;
    const logits = be.upload(Float32Array.of(ninf, ninf, ninf, ninf, ninf, ninf, 0, 1, 2));
    const targets = be.upload(Int32Array.of(1, -1, 2));
    const loss = be.alloc('float32', 3), lse = be.alloc('float32', 3), dloss = be.upload(Float32Array.of(1, 1, 1));
    const dlogits = be.alloc('float32', 9);
    be.softmaxXentForward({ N: 3, V: 3, logits, targets, ignoreIndex: -1, loss, lse });
    be.softmaxXentBackward({ N: 3, V: 3, logits, targets, ignoreIndex: -1, lse, dloss, dlogits });
    const l = be.download(loss), s = be.download(lse), d = be.download(dlogits);
    t.ok(s[0] === ninf && s[1] === ninf, `${be.name}: lse of the -inf rows is -inf (${s[0]}, ${s[1]})`);
    t.ok(Number.isNaN(l[0]) && l[1] === 0, `${be.name}: loss NaN for the -inf row, 0 for the ignored one (${l[0]}, ${l[1]})`);
    t.ok(Math.abs(l[2] - (Math.log(Math.exp(0) + Math.exp(1) + Math.exp(2)) - 2)) < 1e-6, `${be.name}: the ordinary row is unaffected`);
    t.ok([d[3], d[4], d[5]].every((x) => x === 0), `${be.name}: dlogits of the ignored -inf row are 0`);
    for (const x of [logits, targets, loss, lse, dloss, dlogits]) be.free(x);
  }
  t.end();
});

test('sampled tokens and uploaded indices need no device read for the index check (native)', (t) => {
  for (const be of backends.filter((b) => b.name !== 'ref')) {
    const logits = be.upload(Float32Array.of(0, 1, 2, 3)), tokens = be.alloc('int32', 1);
    const logp = be.alloc('float32', 1), entropy = be.alloc('float32', 1);
    be.sample({ B: 1, V: 4, logits, temperature: 1, topK: 0, topP: 1, seed: 3, offset: 0, offsetAdd: null, tokens, logp, entropy });
    const weight = be.alloc('float32', 8), out = be.alloc('float32', 2);
    const download = be.download;
    let reads = 0;
    (be as { download: typeof download }).download = (s) => { reads++; return download.call(be, s); };
    try {
      be.embeddingForward({ N: 1, V: 4, D: 2, weight, idx: tokens, out });
      be.embeddingForward({ N: 1, V: 4, D: 2, weight, idx: be.upload(Int32Array.of(3)), out });
      t.equal(reads, 0, `${be.name}: no download to check a sampled token or an uploaded index`);
      t.throws(() => be.embeddingForward({ N: 1, V: 3, D: 2, weight, idx: be.upload(Int32Array.of(3)), out }),
        /idx\[0\] = 3 is outside \[0, 3\)/, `${be.name}: an uploaded index over the bound is still refused`);
    } finally {
      delete (be as { download?: unknown }).download;
    }
    for (const x of [logits, tokens, logp, entropy, weight, out]) be.free(x);
  }
  t.end();
});

forEachNativeBackend('addon exports', (kind) => {
  test(`${kind}: the addon exports one function per kernel of the spec`, (t) => {
    const addon = createRequire(import.meta.url)(addonPath(kind)) as Record<string, unknown>;
    const missing = KERNEL_NAMES.filter((k) => typeof addon[k] !== 'function');
    t.deepEqual(missing, [], `${kind}: every spec kernel is exported (${KERNEL_NAMES.length})`);
    t.end();
  });
});

test('the native backend list is the one tests iterate', (t) => {
  t.ok(NATIVE_BACKENDS.some((b) => b.kind === 'emu' && b.required), 'emu is required');
  const names = new Set<Backend['name']>(backends.map((b) => b.name));
  t.ok(names.has('ref') && names.has('emu'), 'ref and emu are present');
  t.end();
});
