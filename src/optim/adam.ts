// Adam / AdamW: one fused backend.adamStep per parameter, bias corrections computed on the host in double.
// decoupled: false = PyTorch Adam (L2 added to the gradient), true = AdamW (param *= 1 - lr·wd).
import type { Tensor } from '../tensor.js';
import { checkNumber } from '../args.js';
import { Optimizer, ParamBuffers } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  /** default [0.9, 0.999] */
  betas?: [number, number];
  /** default 1e-8 */
  eps?: number;
  /** default 0 */
  weightDecay?: number;
  /** default false (Adam); true = AdamW */
  decoupled?: boolean;
}

/** everything Adam needs to continue exactly: moments as number arrays, the step count and lr */
export interface AdamStateDict {
  type: 'adam';
  step: number;
  lr: number;
  m: number[][];
  v: number[][];
}

export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  readonly decoupled: boolean;
  /** steps taken */
  stepCount = 0;
  private readonly m: ParamBuffers;
  private readonly v: ParamBuffers;

  constructor(params: Iterable<Tensor>, opts: AdamOptions) {
    super('Adam', params, opts?.lr);
    if (opts.betas !== undefined && !Array.isArray(opts.betas)) throw new TypeError(`Adam: betas must be a pair [beta1, beta2], got ${typeof opts.betas}`);
    const [b1, b2] = opts.betas ?? [0.9, 0.999];
    // β = 1 would divide by a zero bias correction (1 - β^t): every parameter NaN after one step
    this.beta1 = checkNumber('Adam: betas[0]', b1, 0, 1);
    this.beta2 = checkNumber('Adam: betas[1]', b2, 0, 1);
    for (const [k, b] of [['betas[0]', b1], ['betas[1]', b2]] as const) {
      if (b === 1) throw new RangeError(`Adam: ${k} must be in [0, 1), got 1 (the bias correction 1 - ${k}^t would be 0)`);
    }
    this.eps = checkNumber('Adam: eps', opts.eps ?? 1e-8, 0);
    this.weightDecay = checkNumber('Adam: weightDecay', opts.weightDecay ?? 0, 0);
    this.decoupled = opts.decoupled ?? false;
    this.m = new ParamBuffers('Adam', this.params);
    this.v = new ParamBuffers('Adam', this.params);
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    this.stepCount++;
    const bc1 = 1 - Math.pow(this.beta1, this.stepCount);
    const bc2 = 1 - Math.pow(this.beta2, this.stepCount);
    this.params.forEach((p, i) => {
      const g = p.grad;
      if (!g) return;
      p.backend.adamStep({
        n: p.size, param: p._storage, grad: g._storage, m: this.m.get(i), v: this.v.get(i),
        lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay,
        decoupled: this.decoupled, bc1, bc2,
      });
    });
  }

  stateDict(): AdamStateDict {
    return { type: 'adam', step: this.stepCount, lr: this.lr, m: this.m.toArrays(), v: this.v.toArrays() };
  }

  loadStateDict(s: AdamStateDict): void {
    if (!s || s.type !== 'adam') throw new TypeError(`Adam.loadStateDict: expected an Adam state dict (type 'adam'), got type ${JSON.stringify(s?.type)}`);
    if (!Number.isInteger(s.step) || s.step < 0) throw new RangeError(`Adam.loadStateDict: step must be a non-negative integer, got ${s.step}`);
    const lr = checkNumber('Adam.loadStateDict: lr', s.lr, 0);
    this.m.load('m', s.m);
    this.v.load('v', s.v);
    this.stepCount = s.step;
    this.lr = lr;
  }

  /** frees the moments */
  dispose(): void {
    this.m.dispose();
    this.v.dispose();
  }
}
