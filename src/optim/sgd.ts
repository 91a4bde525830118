// SGD with optional momentum and L2 weight decay (PyTorch's: buf = g on the first step, then
// buf = momentum·buf + g; param -= lr·buf), one backend.sgdStep per parameter.
import type { Tensor } from '../tensor.js';
import { checkNumber } from '../args.js';
import { Optimizer, ParamBuffers } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  /** default 0 */
  momentum?: number;
  /** default 0 */
  weightDecay?: number;
}

export interface SGDStateDict {
  type: 'sgd';
  step: number;
  lr: number;
  /** momentum buffers (null for parameters that have none yet), or null without momentum */
  momentum: (number[] | null)[] | null;
}

export class SGD extends Optimizer {
  readonly momentum: number;
  readonly weightDecay: number;
  stepCount = 0;
  private readonly bufs: ParamBuffers;

  constructor(params: Iterable<Tensor>, opts: SGDOptions) {
    super('SGD', params, opts?.lr);
    this.momentum = checkNumber('SGD: momentum', opts.momentum ?? 0, 0);
    this.weightDecay = checkNumber('SGD: weightDecay', opts.weightDecay ?? 0, 0);
    this.bufs = new ParamBuffers('SGD', this.params);
  }

  step(): void {
    this.stepCount++;
    this.params.forEach((p, i) => {
      const g = p.grad;
      if (!g) return;
      const first = this.momentum > 0 && !this.bufs.has(i);
      p.backend.sgdStep({
        n: p.size, param: p._storage, grad: g._storage, buf: this.momentum > 0 ? this.bufs.get(i) : null,
        lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay, first,
      });
    });
  }

  stateDict(): SGDStateDict {
    const arrays = this.bufs.toArrays();
    return {
      type: 'sgd', step: this.stepCount, lr: this.lr,
      momentum: this.momentum > 0 ? arrays.map((a, i) => (this.bufs.has(i) ? a : null)) : null,
    };
  }

  loadStateDict(s: SGDStateDict): void {
    if (!s || s.type !== 'sgd') throw new TypeError(`SGD.loadStateDict: expected an SGD state dict (type 'sgd'), got type ${JSON.stringify(s?.type)}`);
    if (!Number.isInteger(s.step) || s.step < 0) throw new RangeError(`SGD.loadStateDict: step must be a non-negative integer, got ${s.step}`);
    const lr = checkNumber('SGD.loadStateDict: lr', s.lr, 0);
    if (s.momentum !== null && !Array.isArray(s.momentum)) throw new TypeError('SGD.loadStateDict: momentum must be an array of arrays or null');
    if (this.momentum > 0 && s.momentum) {
      const present = s.momentum.map((a) => a !== null);
      this.bufs.load('momentum', s.momentum.map((a, i) => a ?? new Array<number>(this.params[i]?.size ?? 0).fill(0)));
      present.forEach((has, i) => { if (!has) this.bufs.drop(i); });
    } else {
      this.bufs.dispose();
    }
    this.stepCount = s.step;
    this.lr = lr;
  }

  dispose(): void {
    this.bufs.dispose();
  }
}
