// CUDA graphs on the backends that have them (emu here, cuda on a GPU; kernels/emu/cuda_emu.h section 5b,
// native/addon.cc beginCapture/endCapture/replayGraph, Backend.captureGraph/replayGraph) and
// Backend.copyElements on every backend:
//   - a captured sequence of kernels and copies runs nothing while it is captured, and each replay does
//     exactly what running it directly does (same bits), with the arguments it was captured with;
//   - what a graph cannot hold is refused clearly and leaves the backend usable: a host read, an upload, an
//     allocation, a free, a synchronize, a nested capture inside the capture;
//   - ref and cpu say they have no graphs (hasGraphs false) and refuse captureGraph clearly;
//   - copyElements copies element ranges of float32 and int32 storages, refusing bad ranges.
import test from 'tape';
import type { Backend, Storage } from '../src/backend.js';
import { refBackend } from '../src/cpu/index.js';
import { forEachNativeBackend } from './native_backends.js';

interface Work { x: Storage; out: Storage; out2: Storage; c: Storage }

function storages(be: Backend): Work {
  return {
    x: be.upload(Float32Array.from({ length: 8 }, (_, i) => i - 3.5)),
    out: be.alloc('float32', 8),
    out2: be.alloc('float32', 8),
    c: be.upload(new Float32Array(8).fill(0.25)),
  };
}

/** out = 2·x + 1 (affine), out2[3..6) = out[0..3) (copyElements), c += out[0..4)·out[0..8)ᵀ as [2,2]·[4,2]ᵀ (GEMM). */
function queueWork(be: Backend, s: Work): void {
  be.affine({ n: 8, alpha: 2, x: s.x, beta: 1, out: s.out });
  be.copyElements(s.out, 0, s.out2, 3, 3);
  be.gemm({ transA: false, transB: true, M: 2, N: 4, K: 2, alpha: 1, A: s.out, B: s.out, beta: 1, C: s.c });
}

function read(be: Backend, s: Work): number[] {
  return [...be.download(s.out), ...be.download(s.out2), ...be.download(s.c)];
}

forEachNativeBackend('CUDA graphs', (kind, be) => {
  if (!be.hasGraphs) {
    test(`${kind}: no CUDA graphs: hasGraphs is false and captureGraph refuses clearly`, (t) => {
      t.throws(() => be.captureGraph(() => {}), new RegExp(`${kind}\\.captureGraph: .*no CUDA graphs`), 'captureGraph refuses, naming the backend');
      t.end();
    });
    return;
  }
  test(`${kind}: a captured graph runs nothing while captured; each replay equals running the work directly`, (t) => {
    const direct = storages(be), graphed = storages(be);
    try {
      const before = read(be, graphed);
      const g = be.captureGraph(() => queueWork(be, graphed));
      t.equal(g.nodes, 3, 'three nodes: two kernel launches and one copy');
      t.deepEqual(read(be, graphed), before, 'capturing ran none of it');
      for (let r = 1; r <= 3; r++) {
        queueWork(be, direct);
        be.replayGraph(g);
        t.deepEqual(read(be, graphed), read(be, direct), `replay ${r}: the same bits as running the work directly ${r} time(s) (the GEMM accumulates)`);
      }
      g.dispose();
      t.throws(() => be.replayGraph(g), /replayGraph: the graph was disposed/, 'a disposed graph is refused');
    } finally {
      for (const s of [...Object.values(direct), ...Object.values(graphed)]) be.free(s);
    }
    t.end();
  });

  test(`${kind}: what a graph cannot hold is refused clearly, and the backend stays usable`, (t) => {
    const s = storages(be);
    try {
      const cases: [string, () => void, RegExp][] = [
        ['a download (host read)', () => be.download(s.out), /download: not allowed while a graph is being captured/],
        ['an upload', () => be.upload(new Float32Array(2)), /upload: not allowed while a graph is being captured/],
        ['an allocation', () => be.alloc('float32', 4), /alloc: not allowed while a graph is being captured/],
        ['a synchronize', () => be.synchronize(), /synchronize: not allowed while a graph is being captured/],
        ['a free', () => be.free(s.c), /free: not allowed while a graph is being captured/],
        ['a nested capture', () => be.captureGraph(() => {}), /captureGraph: a capture is already in progress/],
      ];
      for (const [what, bad, msg] of cases) {
        t.throws(() => be.captureGraph(() => { be.affine({ n: 8, alpha: 1, x: s.x, beta: 0, out: s.out }); bad(); }), msg, `${what} inside the capture: a clear error`);
      }
      queueWork(be, s);
      t.deepEqual([...be.download(s.out)], Array.from({ length: 8 }, (_, i) => 2 * (i - 3.5) + 1), 'afterwards the backend runs work and reads it back as before');
    } finally {
      for (const x of Object.values(s)) be.free(x);
    }
    t.end();
  });
});

test('ref: no CUDA graphs: hasGraphs is false and captureGraph refuses clearly', (t) => {
  t.equal(refBackend.hasGraphs, false, 'hasGraphs false');
  t.throws(() => refBackend.captureGraph(() => {}), /ref\.captureGraph: the TypeScript reference has no CUDA graphs/, 'refused clearly');
  t.end();
});

const every: [string, Backend][] = [['ref', refBackend]];
forEachNativeBackend('copyElements', (kind, be) => { every.push([kind, be]); });
for (const [kind, be] of every) {
  test(`${kind}: copyElements copies element ranges of float32 and int32 storages; bad ranges are refused`, (t) => {
    const f = be.upload(Float32Array.of(1, 2, 3, 4, 5)), g = be.alloc('float32', 6);
    const i = be.upload(Int32Array.of(7, 8, 9)), j = be.alloc('int32', 4);
    try {
      be.copyElements(f, 1, g, 3, 3);
      t.deepEqual([...be.download(g)], [0, 0, 0, 2, 3, 4], 'float32: [1,4) of src into [3,6) of dst');
      be.copyElements(i, 0, j, 1, 3);
      be.copyElements(j, 3, j, 0, 1);
      t.deepEqual([...be.download(j)], [9, 7, 8, 9], 'int32, and within one storage (ranges apart)');
      t.throws(() => be.copyElements(f, 3, g, 0, 3), /copyElements: src range \[3, 6\) runs past its 5 elements/, 'past src');
      t.throws(() => be.copyElements(f, 0, g, 4, 3), /copyElements: dst range \[4, 7\) runs past its 6 elements/, 'past dst');
      t.throws(() => be.copyElements(f, 0, i, 0, 1), /copyElements: src is float32 but dst is int32/, 'dtypes differ');
      t.throws(() => be.copyElements(j, 0, j, 1, 2), /copyElements: the ranges \[0, 2\) and \[1, 3\) of one storage overlap/, 'overlap');
      t.throws(() => be.copyElements(f, -1, g, 0, 1), /copyElements: srcStart must be a non-negative integer, got -1/, 'negative start');
    } finally {
      for (const s of [f, g, i, j]) be.free(s);
    }
    t.end();
  });
}
