// Loads the native addons (emu: g++ + CUDA emulator; cuda: nvcc) and wraps them as Backends.
// Placeholder until the native-addon issue: both are reported unavailable with a reason.
import type { Backend } from './backend.js';

export function loadNativeBackend(kind: 'emu' | 'cuda'): { backend?: Backend; reason?: string } {
  return { reason: `the ${kind} addon is not built yet` };
}
