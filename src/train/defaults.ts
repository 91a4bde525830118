// The size of model and batches a run gets when none is given, from the corpus size and the device: on a
// CPU device (ref, emu, the native cpu backend) a small one-layer model makes many more updates per minute
// and learns more in a few minutes than a bigger one (on 1 MB of Shakespeare 1×96 at lr 1e-2 reached
// validation 1.72 in 2 minutes where 2×128 at 2e-3 reached 2.12 in 4; on one-line bios 2.61 against 0.40
// for a smaller model); on cuda the standard 2×512 (2×256 under 1 MB).
import type { DeviceName } from '../backend.js';
import type { TrainOptions } from './options.js';

export type SizeDefaults = Pick<TrainOptions, 'layers' | 'hidden' | 'embed' | 'seq' | 'batch' | 'lr'>;

export function sizeDefaults(bytes: number, device: DeviceName): { chosen: SizeDefaults; why: string } {
  const mb = bytes / 1e6;
  const size = mb >= 1 ? `${mb.toFixed(1)} MB` : `${(bytes / 1e3).toFixed(1)} kB`;
  if (device === 'cuda') {
    return mb >= 1
      ? { chosen: { layers: 2, hidden: 512, embed: 64, seq: 128, batch: 64, lr: 2e-3 }, why: `a ${size} corpus on cuda` }
      : { chosen: { layers: 2, hidden: 256, embed: 64, seq: 64, batch: 32, lr: 3e-3 }, why: `a ${size} corpus (under 1 MB) on cuda` };
  }
  return mb < 4
    ? { chosen: { layers: 1, hidden: 96, embed: 32, seq: 64, batch: 16, lr: 1e-2 }, why: `a ${size} corpus (under 4 MB) on ${device}, a CPU device` }
    : { chosen: { layers: 2, hidden: 128, embed: 64, seq: 64, batch: 32, lr: 2e-3 }, why: `a ${size} corpus on ${device}` };
}
