// The backends every per-op and module test runs on (tfjs's ALL_ENVS): the TypeScript reference and each
// native backend. A native backend is either required (its addon is built by every npm install: missing
// is a FAILURE with its reason) or needs hardware (missing is a visible SKIP line with the reason). A new
// native backend is one line in NATIVE_BACKENDS.
import test from 'tape';
import type { Backend } from '../src/backend.js';
import { refBackend } from '../src/cpu/index.js';
import { loadNativeBackend, type NativeKind } from '../src/native.js';

export const NATIVE_BACKENDS: readonly { kind: NativeKind; required: boolean }[] = [
  { kind: 'cpu', required: true },
  { kind: 'emu', required: true },
  { kind: 'cuda', required: false },
];

/** LSTM_CUDA_TEST_NATIVE=emu,cpu limits the native backends a run visits (emu_schedules.test.ts: emu only). */
const only = process.env.LSTM_CUDA_TEST_NATIVE?.split(',').filter((k) => k !== '');

/** Runs `suite` once per native backend present; a required one missing fails, the others SKIP visibly. */
export function forEachNativeBackend(what: string, suite: (kind: NativeKind, backend: Backend) => void): void {
  for (const { kind, required } of NATIVE_BACKENDS) {
    if (only !== undefined && !only.includes(kind)) continue;
    const r = loadNativeBackend(kind);
    if (r.backend) {
      suite(kind, r.backend);
    } else if (required) {
      test(`${kind}: ${what}: backend is available`, (t) => {
        t.fail(`the ${kind} addon must always be built and load: ${r.reason}`);
        t.end();
      });
    } else {
      test(`${kind}: ${what}`, (t) => {
        t.comment(`SKIP ${kind}: ${r.reason}`);
        t.skip(`SKIP ${kind}: ${r.reason}`);
        t.end();
      });
    }
  }
}

/** Runs `suite` on ref and then on every native backend (as forEachNativeBackend). */
export function forEachBackend(what: string, suite: (kind: Backend['name'], backend: Backend) => void): void {
  suite('ref', refBackend);
  forEachNativeBackend(what, suite);
}

/** The backends present here (ref first), for tests that compare them with each other. */
export function presentBackends(): Backend[] {
  const list: Backend[] = [refBackend];
  for (const { kind } of NATIVE_BACKENDS) {
    if (only !== undefined && !only.includes(kind)) continue;
    const r = loadNativeBackend(kind);
    if (r.backend) list.push(r.backend);
  }
  return list;
}
