// Embedding: a [V,D] table looked up by int32 indices of any shape, like torch.nn.Embedding
// (weight initialised N(0,1) from the module's seed).
import type { Tensor } from '../tensor.js';
import { embedding } from '../ops/embedding.js';
import { checkPositiveInt } from '../args.js';
import { Module, type ModuleOptions } from './module.js';

export interface EmbeddingOptions extends ModuleOptions {
  numEmbeddings: number;
  embeddingDim: number;
}

export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;

  constructor(opts: EmbeddingOptions) {
    super();
    if (opts === null || typeof opts !== 'object') throw new TypeError('Embedding: expected an options object');
    this.numEmbeddings = checkPositiveInt('Embedding: numEmbeddings', opts.numEmbeddings);
    this.embeddingDim = checkPositiveInt('Embedding: embeddingDim', opts.embeddingDim);
    const n = this.numEmbeddings * this.embeddingDim;
    Module.checkParameterMemory(`Embedding(numEmbeddings ${this.numEmbeddings}, embeddingDim ${this.embeddingDim})`, n, n, opts);
    this.createNormal('weight', [this.numEmbeddings, this.embeddingDim], Module.initStream(opts), opts);
  }

  get weight(): Tensor { return this.param('weight'); }

  forward(idx: Tensor): Tensor {
    // shapes: idx int32 [...] -> out [..., D]
    return embedding(this.weight, idx);
  }
}
