// A forced full garbage collection for tests that count live native storages. A storage dropped without
// dispose() is freed by the collection that finds it unreachable (native/storage.cc), at a moment V8
// chooses, so memory().liveCount counts such storages until one runs; counted right after
// collectGarbage(), it holds only what is still reachable, and two counts compare exactly.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
/** Runs a full, synchronous garbage collection (the finalizers of what it frees included). */
export const collectGarbage = runInNewContext('gc') as () => void;
