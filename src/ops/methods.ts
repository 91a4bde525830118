// The Tensor method sugar: t.reshape, t.add, t.sub, t.mul, t.sum, t.mean, t.to, attached here from the
// ops so that src/tensor.ts imports no op. src/index.ts imports this module, so every user of the package
// has them; code inside src/ calls the op functions.
import type { DeviceName } from '../backend.js';
import { Tensor } from '../tensor.js';
import { add, mul, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { reshape } from './reshape.js';
import { toDevice } from './to_device.js';

declare module '../tensor.js' {
  interface Tensor {
    /** a view with another shape of the same number of elements (differentiable) */
    reshape(shape: readonly number[]): Tensor;
    add(u: Tensor | number): Tensor;
    sub(u: Tensor | number): Tensor;
    mul(u: Tensor | number): Tensor;
    sum(): Tensor;
    mean(): Tensor;
    /** a copy on another device (differentiable); this tensor itself when already there */
    to(device: DeviceName): Tensor;
  }
}

Object.assign(Tensor.prototype, {
  reshape(this: Tensor, shape: readonly number[]): Tensor { return reshape(this, shape); },
  add(this: Tensor, u: Tensor | number): Tensor { return add(this, u); },
  sub(this: Tensor, u: Tensor | number): Tensor { return sub(this, u); },
  mul(this: Tensor, u: Tensor | number): Tensor { return mul(this, u); },
  sum(this: Tensor): Tensor { return sum(this); },
  mean(this: Tensor): Tensor { return mean(this); },
  to(this: Tensor, device: DeviceName): Tensor { return toDevice(this, device); },
});
