// Lifetime of native buffers (native/storage.cc): a storage dropped without dispose() is freed by the
// garbage collection that finds it unreachable, not on a later turn of the event loop, so a loop that never
// yields stays bounded (counted by the allocator's live buffers, memory().liveCount, not by RSS); dispose()
// frees at once, exactly once, however the GC runs afterwards.
import test from 'tape';
import { collectGarbage as gc } from './gc.js';
import { forEachNativeBackend } from './native_backends.js';
import { Tensor } from '../src/tensor.js';
import { add } from '../src/ops/elementwise.js';

/** Storages the allocator holds for a caller, beyond `base`: slack for the last few still on the stack. */
const SLACK = 4;

forEachNativeBackend('buffer lifetime', (kind, be) => {
  test(`${kind}: a loop that never yields frees storages dropped without dispose at each GC`, (t) => {
    gc();
    const base = be.memory().liveCount;
    const n = 4000, every = 500;
    let worst = 0;
    for (let i = 1; i <= n; i++) {
      be.alloc('float32', 16 + (i % 7)); // dropped at once, never disposed
      if (i % every === 0) {
        gc();
        worst = Math.max(worst, be.memory().liveCount - base);
      }
    }
    t.ok(worst <= SLACK, `after each forced GC at most ${SLACK} of the ${every} dropped storages are still live (worst: ${worst})`);
    gc();
    const m = be.memory();
    t.ok(m.liveCount - base <= SLACK, `after ${n} allocations and a GC, without yielding: ${m.liveCount - base} live beyond the baseline`);
    t.end();
  });

  test(`${kind}: tensors dropped without dispose in a loop that never yields are freed by the GC`, (t) => {
    const a = Tensor.from([1, 2, 3, 4], [4], { device: kind }), b = Tensor.from([4, 3, 2, 1], [4], { device: kind });
    gc();
    const base = be.memory().liveCount;
    for (let i = 0; i < 2000; i++) add(add(a, b), b); // two storages per iteration, both dropped
    gc();
    t.ok(be.memory().liveCount - base <= SLACK, `2,000 iterations, 4,000 dropped tensors: ${be.memory().liveCount - base} still live after a GC`);
    a.dispose();
    b.dispose();
    t.end();
  });

  test(`${kind}: dispose frees at once and exactly once`, (t) => {
    gc();
    const base = be.memory();
    const s = be.alloc('float32', 1000);
    t.equal(be.memory().liveCount, base.liveCount + 1, 'live +1 while it lives');
    be.free(s);
    t.equal(be.memory().liveCount, base.liveCount, 'live back to the baseline right after free, before any GC');
    t.equal(be.memory().liveBytes, base.liveBytes, 'live bytes back to the baseline');
    be.free(s);
    t.throws(() => be.download(s), /was freed/, 'use after free is refused');
    gc();
    t.equal(be.memory().liveCount, base.liveCount, 'a GC after dispose releases nothing a second time');
    t.equal(be.memory().liveBytes, base.liveBytes, 'nor its bytes');
    t.end();
  });
});
