// Checkpoints: the safetensors writer read back by an INDEPENDENT parser written here (header length, JSON,
// offsets, dtypes, byte sizes, values), corrupt/truncated files, and saveCheckpoint/loadCheckpoint of a CharRNN
// (PyTorch names and shapes, vocabulary and config in the metadata, loading on another device).
import test from 'tape';
import { mkdtempSync, readFileSync, writeFileSync, rmSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as zlib from 'node:zlib';
import { join } from 'node:path';
import { encodeSafetensors, decodeSafetensors, writeSafetensors, readSafetensors } from '../src/checkpoint/safetensors.js';
import { saveCheckpoint, loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { CharRNN } from '../src/nn/char_rnn.js';
import { Vocab } from '../src/text/vocab.js';
import { devices } from '../src/device.js';
import { Tensor } from '../src/tensor.js';
import '../src/ops/methods.js'; // t.add, t.sum, t.reshape, t.to, ...

/** CRC-32 by zlib where Node has it (≥ 20.15), else a bitwise one written here */
function zlibCrc(b: Uint8Array): string {
  const z = (zlib as unknown as { crc32?: (d: Uint8Array) => number }).crc32;
  let c: number;
  if (z) c = z(b);
  else {
    c = ~0;
    for (const x of b) { c ^= x; for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1; }
    c = ~c;
  }
  return (c >>> 0).toString(16).padStart(8, '0');
}

/** A safetensors reader that shares no code with src/: Buffer reads only. */
function independentParse(buf: Buffer): { header: Record<string, any>; values: Record<string, number[]> } {
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length) throw new Error('header longer than file');
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const base = 8 + n;
  const size: Record<string, number> = { F32: 4, F64: 8, I32: 4 };
  const values: Record<string, number[]> = {};
  let covered = 0;
  for (const [name, e] of Object.entries<any>(header)) {
    if (name === '__metadata__') continue;
    const [b0, b1] = e.data_offsets;
    const count = e.shape.reduce((a: number, b: number) => a * b, 1);
    if (b1 - b0 !== count * size[e.dtype]) throw new Error(`${name}: byte size mismatch`);
    if (base + b1 > buf.length) throw new Error(`${name}: out of range`);
    const vals: number[] = [];
    for (let i = 0; i < count; i++) {
      const o = base + b0 + i * size[e.dtype];
      vals.push(e.dtype === 'F32' ? buf.readFloatLE(o) : e.dtype === 'F64' ? buf.readDoubleLE(o) : buf.readInt32LE(o));
    }
    values[name] = vals;
    covered += b1 - b0;
  }
  if (base + covered !== buf.length) throw new Error('data not exactly covered');
  return { header, values };
}

test('safetensors: layout read back by an independent parser', (t) => {
  const bytes = encodeSafetensors({
    a: { shape: [2, 3], data: Float32Array.of(1, -2, 3.5, 0, 1e-8, -0) },
    b: { shape: [3], data: Int32Array.of(7, -1, 2147483647) },
    c: { shape: [], data: Float64Array.of(Math.PI) },
  }, { hello: 'wörld', json: '{"x":1}' });
  const buf = Buffer.from(bytes);
  const n = Number(buf.readBigUInt64LE(0));
  t.equal(n % 8, 0, 'header padded to a multiple of 8');
  const { header, values } = independentParse(buf);
  const { 'lstm_cuda.crc32': crcs, ...meta } = header.__metadata__;
  t.deepEqual(meta, { hello: 'wörld', json: '{"x":1}' });
  t.deepEqual(Object.keys(JSON.parse(crcs)), ['__metadata__', 'a', 'b', 'c'], 'a checksum of the metadata and one per tensor');
  t.equal(JSON.parse(crcs).a, zlibCrc(buf.subarray(8 + n, 8 + n + 24)), 'CRC-32 of a\'s bytes, as zlib computes it');
  t.deepEqual(header.a, { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
  t.deepEqual(header.b, { dtype: 'I32', shape: [3], data_offsets: [24, 36] });
  t.deepEqual(header.c, { dtype: 'F64', shape: [], data_offsets: [36, 44] });
  t.deepEqual(values.a, [...Float32Array.of(1, -2, 3.5, 0, 1e-8, -0)]);
  t.deepEqual(values.b, [7, -1, 2147483647]);
  t.deepEqual(values.c, [Math.PI]);
  const back = decodeSafetensors(bytes, 'x');
  t.deepEqual([...back.tensors.a!.data], values.a, 'own reader agrees');
  t.ok(back.tensors.b!.data instanceof Int32Array, 'I32 reads back as Int32Array');
  t.end();
});

test('safetensors: truncated, corrupt and inconsistent files name the file and the problem', (t) => {
  const good = encodeSafetensors({ w: { shape: [4], data: Float32Array.of(1, 2, 3, 4) } });
  t.throws(() => decodeSafetensors(good.subarray(0, 5), 'f.st'), /f\.st: truncated: 5 bytes/);
  t.throws(() => decodeSafetensors(good.subarray(0, good.length - 3), 'f.st'), /f\.st: truncated: tensor 'w' ends at data byte 16 but the file has only 13/);
  const bad = good.slice();
  bad[9] = 0x7b; bad[10] = 0x7b; // break the JSON
  t.throws(() => decodeSafetensors(bad, 'f.st'), /f\.st: corrupt header \(not valid JSON/);
  const huge = good.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  t.throws(() => decodeSafetensors(huge, 'f.st'), /header length 1099511627776 but only/);
  const wrong = encodeSafetensors({ w: { shape: [4], data: Float32Array.of(1, 2, 3, 4) } });
  const txt = Buffer.from(wrong).toString('latin1').replace('"shape":[4]', '"shape":[5]');
  t.throws(() => decodeSafetensors(Buffer.from(txt, 'latin1'), 'f.st'), /tensor 'w': shape \[5\] of F32 needs 20 bytes but data_offsets span 16/);
  t.throws(() => decodeSafetensors(Buffer.from(Buffer.from(good).toString('latin1').replace('F32', 'F16'), 'latin1'), 'f.st'), /unsupported dtype "F16"/);
  t.throws(() => readSafetensors('/nonexistent/model.safetensors'), /cannot read checkpoint '\/nonexistent\/model\.safetensors': no such file/);
  t.end();
});

test('safetensors: atomic write leaves no temp file and replaces the old file whole', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-st-'));
  try {
    const p = join(dir, 'm.safetensors');
    writeSafetensors(p, { w: { shape: [2], data: Float32Array.of(1, 2) } });
    writeSafetensors(p, { w: { shape: [3], data: Float32Array.of(3, 4, 5) } });
    t.deepEqual(readdirSync(dir), ['m.safetensors'], 'only the final file');
    t.deepEqual([...readSafetensors(p).tensors.w!.data], [3, 4, 5]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

function tinyModel(vocab: Vocab, seed = 4): CharRNN {
  return new CharRNN({ vocabSize: vocab.size, embedDim: 3, hiddenSize: 5, numLayers: 2, dropout: 0, device: 'ref', seed });
}

test('saveCheckpoint / loadCheckpoint: PyTorch names, config + vocab metadata, values, optimizer', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-ckpt-'));
  try {
    const vocab = Vocab.fromText('héllo wörld 👋\n');
    const model = tinyModel(vocab);
    saveCheckpoint(dir, { model, vocab, mode: 'lines', step: 12 });
    t.deepEqual(readdirSync(dir).sort(), ['model.safetensors'], 'model only without optimizer/trainState, no temp files');
    const { header, values } = independentParse(readFileSync(join(dir, 'model.safetensors')));
    const meta = header.__metadata__;
    t.equal(meta.format, 'pt', 'format pt (loads with safetensors.torch)');
    t.deepEqual(JSON.parse(meta['lstm_cuda.config']), { vocabSize: vocab.size, embedDim: 3, hiddenSize: 5, numLayers: 2, dropout: 0, mode: 'lines' });
    t.deepEqual(JSON.parse(meta['lstm_cuda.vocab']), vocab.toJSON(), 'vocabulary in the metadata');
    t.equal(meta['lstm_cuda.step'], '12');
    for (const [name, p] of model.namedParameters()) {
      t.equal(header[name]?.dtype, 'F32', `${name} F32`);
      t.deepEqual(header[name]?.shape, [...p.shape], `${name} shape`);
      t.deepEqual(values[name], [...p.toArray()], `${name} values`);
    }
    const back = loadCheckpoint(dir, { device: 'ref' });
    t.ok(back.vocab.equals(vocab), 'vocabulary restored');
    t.equal(back.config.mode, 'lines');
    t.equal(back.step, 12);
    t.equal(back.optimizer, undefined, 'no optimizer saved');
    for (const [name, p] of back.model.namedParameters()) t.deepEqual([...p.toArray()], values[name], `${name} loaded`);
    back.model.dispose();
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

test('checkpoint with optimizer and train state round-trips Adam exactly', async (t) => {
  const { Adam } = await import('../src/optim/adam.js');
  const { crossEntropy } = await import('../src/ops/cross_entropy.js');
  const dir = mkdtempSync(join(tmpdir(), 'lstm-ckpt-'));
  try {
    const vocab = Vocab.fromText('abc\n');
    const model = tinyModel(vocab);
    const adam = new Adam(model.parameters(), { lr: 0.01, betas: [0.8, 0.99] });
    const stepOnce = (m: typeof model, o: typeof adam) => {
      const x = Tensor.from(Int32Array.of(0, 1, 2, 3), [2, 2], { dtype: 'int32', device: 'ref' });
      const loss = crossEntropy(m.forward(x).logits.reshape([4, vocab.size]), Int32Array.of(1, 2, 3, 0));
      loss.backward();
      o.step();
      o.zeroGrad();
    };
    stepOnce(model, adam);
    saveCheckpoint(dir, { model, vocab, optimizer: adam, trainState: { json: { note: 'x', step: 1 }, tensors: { extra: { shape: [2], data: Float32Array.of(5, 6) } } } });
    t.deepEqual(readdirSync(dir).sort(), ['checkpoints', 'current', 'model.safetensors', 'train_state.json', 'train_state.safetensors'], 'one committed checkpoint directory, stable names linked to it');
    t.equal(readdirSync(join(dir, 'checkpoints')).length, 1, 'one checkpoint directory');
    const back = loadCheckpoint(dir, { device: 'ref' });
    t.ok(back.optimizer, 'optimizer restored');
    t.equal(back.optimizer!.stepCount, 1);
    t.equal(back.optimizer!.beta1, 0.8);
    t.equal(back.trainState!.json.note, 'x');
    t.deepEqual([...back.trainState!.tensors.extra!.data], [5, 6]);
    stepOnce(model, adam);
    stepOnce(back.model, back.optimizer!);
    t.deepEqual([...back.model.parameters()[3]!.toArray()], [...model.parameters()[3]!.toArray()], 'one more step from the checkpoint = one more step in memory (bit for bit)');
    // a model-only save over a committed run is a new commit: it loads as that checkpoint, without train state
    saveCheckpoint(dir, { model, vocab, step: 7 });
    const only = loadCheckpoint(dir, { device: 'ref' });
    t.equal(only.step, 7, 'the newer model-only commit');
    t.equal(only.trainState, undefined, 'no stale training state from the older commit');
    t.deepEqual(readdirSync(dir).sort(), ['checkpoints', 'current', 'model.safetensors'], 'the older commit and its links are gone');
    only.model.dispose();
    // the old flat layout (three files written one by one) still loads; a crash between its files is a mismatch
    const flat = mkdtempSync(join(tmpdir(), 'lstm-ckpt-flat-'));
    saveCheckpoint(join(flat, 'a'), { model, vocab, optimizer: adam, trainState: { json: { note: 'x', step: 1 } } });
    for (const f of ['model.safetensors', 'train_state.json', 'train_state.safetensors']) writeFileSync(join(flat, f), readFileSync(join(flat, 'a', f)));
    rmSync(join(flat, 'a'), { recursive: true });
    const old = loadCheckpoint(flat, { device: 'ref' });
    t.ok(old.optimizer && old.trainState?.json.note === 'x', 'flat layout loads with its training state');
    old.model.dispose(); old.optimizer!.dispose();
    saveCheckpoint(join(flat, 'b'), { model, vocab, step: 7 });
    writeFileSync(join(flat, 'model.safetensors'), readFileSync(join(flat, 'b', 'model.safetensors')));
    t.throws(() => loadCheckpoint(flat), /files from different steps \(model\.safetensors 7, train_state\.json 1, train_state\.safetensors 1\)/);
    rmSync(flat, { recursive: true, force: true });
    back.model.dispose(); back.optimizer!.dispose(); model.dispose(); adam.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

test('loadCheckpoint: truncated, mismatched vocabulary, wrong shapes, missing → clear errors naming the file', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-ckpt-'));
  try {
    const vocab = Vocab.fromText('abc');
    const model = tinyModel(vocab);
    saveCheckpoint(dir, { model, vocab });
    const file = join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    writeFileSync(file, bytes.subarray(0, bytes.length - 10));
    t.throws(() => loadCheckpoint(dir), new RegExp(`checkpoint '${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}': truncated: tensor 'decoder.bias'`));
    // vocabulary of another size than the model's tensors
    const parsed = decodeSafetensors(bytes, 'x');
    writeSafetensors(file, parsed.tensors, { ...parsed.metadata, 'lstm_cuda.vocab': JSON.stringify({ mode: 'char', symbols: ['a', 'b', 'x', 'y'] }) });
    t.throws(() => loadCheckpoint(dir), /mismatched vocabulary: the config says 4 symbols, the stored vocabulary has 5/);
    const wide: Record<string, { shape: number[]; data: Float32Array }> = { ...parsed.tensors as any, 'decoder.bias': { shape: [5], data: new Float32Array(5) } };
    writeSafetensors(file, wide, parsed.metadata);
    t.throws(() => loadCheckpoint(dir), /tensor 'decoder\.bias' has shape \[5\], the config needs \[4\]/);
    t.throws(() => loadCheckpoint(join(dir, 'nope')), /checkpoint directory '.*nope' does not exist/);
    rmSync(file);
    t.throws(() => loadCheckpoint(dir), /no checkpoint in '.*': model\.safetensors is missing/);
    t.ok(!existsSync(file), 'nothing written by failed loads');
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

test('a checkpoint saved on ref loads on another device (emu/cuda) and gives the same logits', (t) => {
  const other = devices().filter((d) => d.available && d.name !== 'ref');
  if (other.length === 0) {
    const why = devices().filter((d) => d.name !== 'ref').map((d) => `${d.name}: ${d.reason}`).join('; ');
    t.fail(`no emu backend (it is built by every npm install), so the cross-device load cannot be checked: ${why}`);
    t.end();
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'lstm-ckpt-'));
  try {
    const vocab = Vocab.fromText('abcdef');
    const model = tinyModel(vocab);
    saveCheckpoint(dir, { model, vocab });
    for (const d of other) {
      const back = loadCheckpoint(dir, { device: d.name });
      t.equal(back.model.device, d.name, `loaded on ${d.name}`);
      t.deepEqual([...back.model.parameters()[0]!.toArray()], [...model.parameters()[0]!.toArray()], `weights equal on ${d.name}`);
      const ids = Int32Array.of(0, 3, 5, 1, 2, 4);
      const ref = model.forward(Tensor.from(ids, [3, 2], { dtype: 'int32', device: 'ref' })).logits.toArray();
      const got = back.model.forward(Tensor.from(ids, [3, 2], { dtype: 'int32', device: d.name })).logits.toArray();
      let worst = 0;
      ref.forEach((v, i) => { worst = Math.max(worst, Math.abs(v - got[i]!) - 1e-4 * Math.abs(v)); });
      t.ok(worst <= 1e-5, `logits on ${d.name} match ref (max excess over 1e-5 + 1e-4·|ref|: ${worst.toExponential(2)})`);
      back.model.dispose();
    }
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

test('charRnnParameterShapes (used to check files before allocating) equals a built model\'s parameters', async (t) => {
  const { charRnnParameterShapes } = await import('../src/nn/char_rnn.js');
  const m = new CharRNN({ vocabSize: 7, embedDim: 3, hiddenSize: 5, numLayers: 3, dropout: 0, device: 'ref', seed: 1 });
  t.deepEqual(charRnnParameterShapes(m.config), m.namedParameters().map(([n, p]) => [n, [...p.shape]]));
  m.dispose();
  t.end();
});

test('loadCheckpoint refuses a flipped data byte, non-finite weights and an impossible config before allocating', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lstm-ckpt-'));
  try {
    const vocab = Vocab.fromText('abc');
    const model = tinyModel(vocab);
    saveCheckpoint(dir, { model, vocab });
    const file = join(dir, 'model.safetensors');
    const bytes = readFileSync(file);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 3] ^= 0x10;
    writeFileSync(file, flipped);
    t.throws(() => loadCheckpoint(dir), /corrupt data: tensor 'decoder\.bias' has checksum [0-9a-f]{8}, the header says [0-9a-f]{8}/, 'a flipped data byte');
    const parsed = decodeSafetensors(bytes, 'x');
    const nan = { ...parsed.tensors, 'lstm.weight_hh_l1': { shape: parsed.tensors['lstm.weight_hh_l1']!.shape, data: parsed.tensors['lstm.weight_hh_l1']!.data.slice() } };
    nan['lstm.weight_hh_l1'].data[3] = NaN;
    writeSafetensors(file, nan, parsed.metadata);
    t.throws(() => loadCheckpoint(dir), /tensor 'lstm\.weight_hh_l1' holds 1 non-finite value\(s\) \(the first, NaN, at index 3\)/, 'NaN weights');
    const config = JSON.parse(parsed.metadata['lstm_cuda.config']!);
    for (const [k, v, re] of [
      ['hiddenSize', 20000, /tensor 'lstm\.weight_ih_l0' has shape \[20,3\], the config needs \[80000,3\]/],
      ['numLayers', 1e8, /config says numLayers 100000000 \(400000003 tensors\) but the file holds 11 tensors/],
      ['embedDim', -1, /impossible config: embedDim -1/],
      ['vocabSize', 'x', /impossible config: vocabSize "x"/],
    ] as const) {
      writeSafetensors(file, parsed.tensors, { ...parsed.metadata, 'lstm_cuda.config': JSON.stringify({ ...config, [k]: v }) });
      t.throws(() => loadCheckpoint(dir), re, `${k} ${v}`);
    }
    model.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

test('run-directory lock: a second writer is refused naming the holder; a dead holder\'s lock is taken over', async (t) => {
  const { lockRunDir } = await import('../src/checkpoint/lock.js');
  const { hostname } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'lstm-lock-'));
  try {
    const a = lockRunDir(dir, 'train');
    t.throws(() => lockRunDir(dir), new RegExp(`is in use by process ${process.pid} on ${hostname()}, started .* \\(train\\)`));
    a.check();
    a.release();
    t.notOk(existsSync(join(dir, 'lock')), 'released');
    // a lock left by a process that no longer exists (pid 2^22+1 is above Linux's pid_max default)
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: 4194305, host: hostname(), started: 'then', nonce: 'x' }));
    const b = lockRunDir(dir);
    t.pass('stale lock taken over');
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: 1, host: 'elsewhere', started: 'now', nonce: 'y' }));
    t.throws(() => b.check(), /lost the lock of run directory .* to process 1 on elsewhere/, 'a writer notices a lost lock before committing');
    t.throws(() => lockRunDir(dir), /in use by process 1 on elsewhere/, 'another host\'s lock is never taken over');
    b.release();
    t.ok(existsSync(join(dir, 'lock')), 'release leaves a lock that is not its own');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});
