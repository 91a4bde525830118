// DeviceLoop: generation at batch 1 with the sampled token fed back ON THE DEVICE. One step is
//   sample(logits) -> token (device int32 [1]) -> embedding(token) -> L × lstmForward (T = 1) -> head
//   (gemm + addRowVector) -> logits of the next step,
// and copies the token, its log-probability and the step's entropy into device history buffers that the
// host reads once per batch of K steps (no host read, no allocation, no memset per character). The draw of
// step s uses RNG counter s, as the per-step path does (Generator.draw with offset = step): offset = k (the
// step within the batch, fixed) + offsetAdd (a device int32 holding the batch's first step, uploaded before
// each batch). Where the backend has CUDA graphs (cuda, emu) the K steps are captured ONCE as a graph and
// each batch is one graph launch; elsewhere (ref, cpu) the same kernels are queued directly. The kernels,
// their arguments and their order are those of the per-step path (sampleTokens, CharRNN.forward of one
// token), so tokens, log-probabilities and entropies are the same bits. The recurrent state ping-pongs
// between two buffers per layer by step parity (K is even, so every batch starts on the same side).
// Steps past a stop (STOP, maxLength) are computed speculatively and discarded by the caller.
import type { Backend, DeviceGraph, Storage } from '../backend.js';
import type { CharRNN, LstmState } from '../nn/char_rnn.js';
import type { Tensor } from '../tensor.js';

export interface DeviceLoopOptions {
  /** ≤ 0: greedy */
  temperature: number;
  /** 0 = all */
  topK: number;
  /** 1 = all */
  topP: number;
  /** uint32 */
  seed: number;
  /** steps per batch (even; default 16): what the host reads at once and what one graph holds */
  batch?: number;
  /** capture the batch as a CUDA graph (default: where the backend has graphs) */
  graph?: boolean;
}

/** One batch of draws, read from the device at once. */
export interface DeviceBatch {
  tokens: Int32Array;
  /** the values of the device's float storages (float32, or float64 on ref) */
  logp: Float64Array;
  entropy: Float64Array;
}

interface Layer {
  I: number;
  wih: Storage; whh: Storage; bih: Storage | null; bhh: Storage | null;
  /** h and c on each side of the ping-pong: [0] read by even steps, [1] by odd steps */
  h: [Storage, Storage];
  c: [Storage, Storage];
}

export class DeviceLoop {
  readonly batch: number;
  /** true when each batch is one replay of a captured CUDA graph */
  readonly graphed: boolean;
  private readonly be: Backend;
  private readonly owned: Storage[] = [];
  private readonly layers: Layer[] = [];
  private readonly V: number;
  private readonly D: number;
  private readonly H: number;
  private readonly emb: Storage;
  private readonly decW: Storage;
  private readonly decB: Storage | null;
  private readonly logits: Storage;
  private readonly token: Storage;
  private readonly offsetAdd: Storage;
  private readonly stepLogp: Storage;
  private readonly stepEntropy: Storage;
  private readonly x: Storage;
  private readonly gates: Storage;
  private readonly tanhC: Storage;
  private readonly histTokens: Storage;
  /** logp of the batch's steps, then their entropies: [2K] */
  private readonly histFloats: Storage;
  private graph: DeviceGraph | null = null;
  /** steps drawn so far: the next batch's first step */
  private done = 0;

  /**
   * model in eval mode; state: h/c [L,1,H] after what was fed; logits [1,V] of the next token (both copied:
   * the caller keeps and frees its own).
   */
  constructor(model: CharRNN, state: LstmState, logits: Tensor, private readonly o: DeviceLoopOptions) {
    // shapes: state h, c [L,1,H]; logits [1,V]
    const K = o.batch ?? 16;
    if (!Number.isInteger(K) || K < 2 || K % 2 !== 0) throw new RangeError(`DeviceLoop: batch must be an even integer ≥ 2, got ${K}`);
    this.batch = K;
    const be = (this.be = logits.backend);
    const { vocabSize: V, embedDim: D, hiddenSize: H, numLayers: L } = model.config;
    this.V = V; this.D = D; this.H = H;
    const p = new Map(model.namedParameters());
    const param = (name: string): Storage => p.get(name)!._storage;
    const opt = (name: string): Storage | null => (p.has(name) ? param(name) : null);
    this.emb = param('embedding.weight');
    this.decW = param('decoder.weight');
    this.decB = opt('decoder.bias');
    const dtype = logits.dtype;
    const alloc = (n: number, dt: 'int32' | typeof dtype = dtype): Storage => {
      const s = be.alloc(dt, n);
      this.owned.push(s);
      return s;
    };
    try {
      this.logits = alloc(V);
      be.copy(logits._storage, this.logits);
      this.token = alloc(1, 'int32');
      this.offsetAdd = alloc(1, 'int32');
      this.stepLogp = alloc(1);
      this.stepEntropy = alloc(1);
      this.x = alloc(D);
      this.gates = alloc(4 * H);
      this.tanhC = alloc(H);
      this.histTokens = alloc(K, 'int32');
      this.histFloats = alloc(2 * K);
      for (let l = 0; l < L; l++) {
        const layer: Layer = {
          I: l === 0 ? D : H,
          wih: param(`lstm.weight_ih_l${l}`), whh: param(`lstm.weight_hh_l${l}`),
          bih: opt(`lstm.bias_ih_l${l}`), bhh: opt(`lstm.bias_hh_l${l}`),
          h: [alloc(H), alloc(H)], c: [alloc(H), alloc(H)],
        };
        be.copyElements(state.h._storage, l * H, layer.h[0], 0, H);
        be.copyElements(state.c._storage, l * H, layer.c[0], 0, H);
        this.layers.push(layer);
      }
      this.graphed = (o.graph ?? be.hasGraphs) && be.hasGraphs && this.capture();
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** Captures one batch as a graph; false (and nothing captured) when the backend refuses a step's kernel. */
  private capture(): boolean {
    try {
      this.graph = this.be.captureGraph(() => { for (let k = 0; k < this.batch; k++) this.queueStep(k); });
      return true;
    } catch {
      // e.g. a kernel that borrows a per-call workspace (large V): run the same steps uncaptured
      return false;
    }
  }

  /** Queues step k of a batch: draw with counter offsetAdd + k, record it, feed the token back. */
  private queueStep(k: number): void {
    // shapes: logits [1,V] -> token [1] -> x [1,D] -> h [1,H] per layer -> logits [1,V]
    const { be, V, D, H, o } = this;
    be.sample({
      B: 1, V, logits: this.logits, temperature: o.temperature, topK: o.topK, topP: o.topP,
      seed: o.seed >>> 0, offset: k, offsetAdd: this.offsetAdd, tokens: this.token, logp: this.stepLogp, entropy: this.stepEntropy,
    });
    be.copyElements(this.token, 0, this.histTokens, k, 1);
    be.copyElements(this.stepLogp, 0, this.histFloats, k, 1);
    be.copyElements(this.stepEntropy, 0, this.histFloats, this.batch + k, 1);
    be.embeddingForward({ N: 1, V, D, weight: this.emb, idx: this.token, out: this.x });
    const side = k % 2;
    let input = this.x;
    for (const l of this.layers) {
      be.lstmForward({
        T: 1, B: 1, I: l.I, H, x: input, wih: l.wih, whh: l.whh, bih: l.bih, bhh: l.bhh,
        h0: l.h[side], c0: l.c[side], h: l.h[1 - side], c: l.c[1 - side], gates: this.gates, tanhC: this.tanhC,
      });
      input = l.h[1 - side];
    }
    be.gemm({ transA: false, transB: true, M: 1, N: V, K: H, alpha: 1, A: input, B: this.decW, beta: 0, C: this.logits });
    if (this.decB) be.addRowVector({ M: 1, N: V, x: this.logits, b: this.decB });
  }

  /** Runs the next batch of K steps and reads its draws (steps done, done+1, …, done+K-1). */
  next(): DeviceBatch {
    const { be } = this;
    const base = be.upload(Int32Array.of(this.done | 0));
    try { be.copy(base, this.offsetAdd); } finally { be.free(base); }
    if (this.graph) be.replayGraph(this.graph);
    else for (let k = 0; k < this.batch; k++) this.queueStep(k);
    this.done += this.batch;
    const f = be.download(this.histFloats) as Float32Array | Float64Array;
    return {
      tokens: be.download(this.histTokens) as Int32Array,
      logp: Float64Array.from(f.subarray(0, this.batch)),
      entropy: Float64Array.from(f.subarray(this.batch)),
    };
  }

  dispose(): void {
    this.graph?.dispose();
    this.graph = null;
    for (const s of this.owned) this.be.free(s);
    this.owned.length = 0;
  }
}
