// to(device): a copy of a tensor on another backend through the host (download + upload); differentiable,
// the gradient travels back the same way.
import type { DeviceName } from '../backend.js';
import { getBackend } from '../device.js';
import { Tensor, recordOp } from '../tensor.js';
import { checkTensor } from '../args.js';

/** x on `device` (x itself when it is already there) */
export function toDevice(x: Tensor, device: DeviceName): Tensor {
  // shapes: x [...] -> out [...]
  checkTensor('to', 'x', x);
  x._live('to');
  if (device === x.device) return x;
  const dst = getBackend(device);
  if (!dst.dtypes.includes(x.dtype)) {
    throw new TypeError(`to('${device}'): dtype ${x.dtype} is not supported there (it supports ${dst.dtypes.join(', ')})`);
  }
  const y = Tensor._fromStorage(dst, dst.upload(x.toArray()), x.shape);
  const src = x.backend;
  recordOp('to', [x], [y], (ctx) => {
    const g = ctx.gradOutput(0)!;
    ctx.give(0, src.upload(dst.download(g)));
  });
  return y;
}
