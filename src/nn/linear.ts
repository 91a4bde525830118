// Linear: y = x·Wᵀ + b over any leading dimensions, like torch.nn.Linear (weight [out,in], bias [out],
// both initialised U(-1/√in, 1/√in) from the module's seed, weight first).
import type { Tensor } from '../tensor.js';
import { linear } from '../ops/linear.js';
import { checkPositiveInt } from '../args.js';
import { Module, type ModuleOptions } from './module.js';

export interface LinearOptions extends ModuleOptions {
  inFeatures: number;
  outFeatures: number;
  /** default true */
  bias?: boolean;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly hasBias: boolean;

  constructor(opts: LinearOptions) {
    super();
    if (opts === null || typeof opts !== 'object') throw new TypeError('Linear: expected an options object');
    this.inFeatures = checkPositiveInt('Linear: inFeatures', opts.inFeatures);
    this.outFeatures = checkPositiveInt('Linear: outFeatures', opts.outFeatures);
    this.hasBias = opts.bias ?? true;
    const w = this.outFeatures * this.inFeatures;
    Module.checkParameterMemory(`Linear(inFeatures ${this.inFeatures}, outFeatures ${this.outFeatures})`, w + (this.hasBias ? this.outFeatures : 0), w, opts);
    const rng = Module.initStream(opts);
    const bound = 1 / Math.sqrt(this.inFeatures);
    this.createUniform('weight', [this.outFeatures, this.inFeatures], bound, rng, opts);
    if (this.hasBias) this.createUniform('bias', [this.outFeatures], bound, rng, opts);
  }

  get weight(): Tensor { return this.param('weight'); }
  get bias(): Tensor | null { return this.hasBias ? this.param('bias') : null; }

  forward(x: Tensor): Tensor {
    // shapes: x [..., in] -> out [..., out]
    return linear(x, this.weight, this.bias);
  }
}
