// Runs a suite once per native backend: on cpu and emu, which every npm install builds, a missing addon is
// a FAILURE with its reason; on cuda, which needs a GPU, it is a visible SKIP line with the reason.
import test from 'tape';
import type { Backend } from '../src/backend.js';
import { loadNativeBackend } from '../src/native.js';

export function forEachNativeBackend(what: string, suite: (kind: 'cpu' | 'emu' | 'cuda', backend: Backend) => void): void {
  for (const kind of ['cpu', 'emu', 'cuda'] as const) {
    const r = loadNativeBackend(kind);
    if (r.backend) {
      suite(kind, r.backend);
    } else if (kind !== 'cuda') {
      test(`${kind}: ${what}: backend is available`, (t) => {
        t.fail(`the ${kind} addon must always be built and load: ${r.reason}`);
        t.end();
      });
    } else {
      test(`cuda: ${what}`, (t) => {
        t.comment(`SKIP cuda: ${r.reason}`);
        t.skip(`SKIP cuda: ${r.reason}`);
        t.end();
      });
    }
  }
}
