// @ts-check
// The kernel spec: every kernel's arguments declared ONCE. Everything else follows from this table:
//   - the TypeScript types of the Backend interface (src/backend.ts: KernelArgs<'gemm'> ...),
//   - the one argument checker every backend runs before a kernel (src/spec/check.ts),
//   - the native glue: N-API wrappers, export table and C launcher prototypes, generated at build time
//     by native/gen_glue.mjs into native/gen/ (npm install runs it before tsc, so this file is plain
//     JavaScript data with no imports: node reads it as is, tsc types it through the JSDoc const cast).
//
// Glossary (used in every shape block of the project):
//   B = batch, T = time steps, I = input size, H = hidden size, V = vocabulary,
//   N = rows (usually T·B), D = embedding size, M/N/K = GEMM sizes, n = element count.
// All matrices are row-major and contiguous. Gate order everywhere is PyTorch's: i, f, g, o.
//
// Contract for every kernel:
//   - The checker has validated every argument against this table before the kernel runs: scalars are in
//     range (integers before they are narrowed to int32/uint32), storages belong to the backend, are live,
//     have the declared dtype and at least the elements of their shape, index storages hold values in
//     range. A kernel may assume all of it.
//   - Parameter gradients ACCUMULATE (role 'acc', +=); activation gradients OVERWRITE (role 'out', =).
//   - Results are deterministic: no float atomics in sums; the same inputs give the same bits on the
//     same backend.
//   - Storages never alias unless the doc says "may alias".
//   - 'float' storages are float32 (every backend) or float64 (ref only); all float storages of one call
//     share one dtype. Index storages are int32.
//   - No launcher allocates memory (a kernel that needs scratch declares `workspace`, the glue lends it
//     from the caching allocator), none synchronises the host; each returns its launch status.
//
// Argument fields:
//   scalars:  type 'size' (integer in [min ?? 0, 2^31) -> C int), 'i32' (any int32 -> C int),
//             'u32' (integer in [0, max ?? 2^32) -> C uint32_t), 'f32' (a number -> C float; `nan: false`
//             refuses NaN; gt/ge/le bound it), 'bool' (a boolean -> C bool)
//   storages: role 'in' | 'out' | 'inout' | 'acc'; dtype 'float' | 'int32'; shape: dims, each a size name,
//             a number, `<k><name>` (k·name) or `<name>+<k>`; optional: true (null allowed -> nullptr);
//             requiredWhen: a scalar that makes an optional storage required when it is non-zero;
//             index: a size name (every value in [0, that)), ignore: an i32 scalar whose value is also
//             allowed; values: a size name (the kernel writes only values in [0, that)); noAlias: other
//             storages it must not be; transposedBy: a bool scalar that, when true, means the 2-D storage
//             is held transposed (the shape's dims reversed); upTo: '<a>-<b>' (a size at most a - b, e.g. a first row that leaves
//             room for R rows).

/** The row-major lengths the checker and the glue agree on: 2^31 - 1 elements at most per storage. */
export const MAX_ELEMENTS = 2147483647;

export const KERNELS = /** @type {const} */ ({
  // ---------------------------------------------------------------------------------------- gemm.cu
  gemm: {
    file: 'gemm',
    doc: [
      'C[M,N] = alpha·op(A)·op(B) + beta·C. op(A) is [M,K]: A is stored [M,K], or [K,M] when transA;',
      'op(B) is [K,N]: B is stored [K,N], or [N,K] when transB. beta == 0: C\'s old contents are ignored (NaN',
      'too). Sizes may be 0 (no-op) and need not be multiples of the tile.',
    ],
    args: [
      { name: 'transA', type: 'bool' },
      { name: 'transB', type: 'bool' },
      { name: 'M', type: 'size' },
      { name: 'N', type: 'size' },
      { name: 'K', type: 'size' },
      { name: 'alpha', type: 'f32', nan: false },
      { name: 'A', role: 'in', dtype: 'float', shape: ['M', 'K'], transposedBy: 'transA' },
      { name: 'B', role: 'in', dtype: 'float', shape: ['K', 'N'], transposedBy: 'transB' },
      { name: 'beta', type: 'f32', nan: false },
      { name: 'C', role: 'inout', dtype: 'float', shape: ['M', 'N'], noAlias: ['A', 'B'] },
    ],
  },

  // ---------------------------------------------------------------------------------------- lstm.cu
  lstmGatesForward: {
    file: 'lstm',
    doc: ['One step\'s fused gates: bias, σ/tanh, c_t = f⊙c_{t-1} + i⊙g, h_t = o⊙tanh(c_t).'],
    args: [
      { name: 'B', type: 'size' },
      { name: 'H', type: 'size' },
      { name: 'gates', role: 'inout', dtype: 'float', shape: ['B', '4H'],
        doc: 'in = x·W_ihᵀ + h_{t-1}·W_hhᵀ (no bias); out = σ(i), σ(f), tanh(g), σ(o), saved for backward' },
      { name: 'bih', role: 'in', dtype: 'float', shape: ['4H'], optional: true },
      { name: 'bhh', role: 'in', dtype: 'float', shape: ['4H'], optional: true },
      { name: 'cPrev', role: 'in', dtype: 'float', shape: ['B', 'H'], doc: 'c_{t-1}' },
      { name: 'c', role: 'out', dtype: 'float', shape: ['B', 'H'], doc: 'c_t = f⊙c_{t-1} + i⊙g' },
      { name: 'h', role: 'out', dtype: 'float', shape: ['B', 'H'], doc: 'h_t = o⊙tanh(c_t)' },
      { name: 'tanhC', role: 'out', dtype: 'float', shape: ['B', 'H'], doc: 'tanh(c_t), saved for backward' },
    ],
  },
  lstmGatesBackward: {
    file: 'lstm',
    doc: ['One step\'s fused gate backward (reuses the saved activations, recomputes nothing).'],
    args: [
      { name: 'B', type: 'size' },
      { name: 'H', type: 'size' },
      { name: 'gates', role: 'in', dtype: 'float', shape: ['B', '4H'], doc: 'activations saved by the forward step' },
      { name: 'cPrev', role: 'in', dtype: 'float', shape: ['B', 'H'], doc: 'c_{t-1}' },
      { name: 'tanhC', role: 'in', dtype: 'float', shape: ['B', 'H'], doc: 'tanh(c_t) saved by the forward step' },
      { name: 'dh', role: 'in', dtype: 'float', shape: ['B', 'H'],
        doc: 'total gradient w.r.t. h_t (from the layer above and from step t+1)' },
      { name: 'dc', role: 'inout', dtype: 'float', shape: ['B', 'H'],
        doc: 'in = gradient w.r.t. c_t carried from step t+1; out = gradient w.r.t. c_{t-1}' },
      { name: 'dgates', role: 'out', dtype: 'float', shape: ['B', '4H'], doc: 'gradient w.r.t. the gate pre-activations' },
    ],
  },
  lstmForward: {
    file: 'lstm',
    doc: [
      'One LSTM layer over T ≥ 1 steps: one GEMM for x·W_ihᵀ of all steps, then per step one recurrent GEMM',
      '(accumulating into that step\'s gates) and one fused gate kernel — or, on cuda/emu where W_hh fits on',
      'chip, one persistent cooperative kernel for all T steps (kernels/lstm_persistent.cuh;',
      'LSTM_CUDA_LSTM_PATH=auto|persistent|steps). The time loop runs inside the backend (C++ for native);',
      'no host synchronisation inside.',
    ],
    args: [
      { name: 'T', type: 'size', min: 1 },
      { name: 'B', type: 'size' },
      { name: 'I', type: 'size' },
      { name: 'H', type: 'size' },
      { name: 'x', role: 'in', dtype: 'float', shape: ['T', 'B', 'I'] },
      { name: 'wih', role: 'in', dtype: 'float', shape: ['4H', 'I'] },
      { name: 'whh', role: 'in', dtype: 'float', shape: ['4H', 'H'] },
      { name: 'bih', role: 'in', dtype: 'float', shape: ['4H'], optional: true },
      { name: 'bhh', role: 'in', dtype: 'float', shape: ['4H'], optional: true },
      { name: 'h0', role: 'in', dtype: 'float', shape: ['B', 'H'], doc: 'initial state' },
      { name: 'c0', role: 'in', dtype: 'float', shape: ['B', 'H'], doc: 'initial state' },
      { name: 'h', role: 'out', dtype: 'float', shape: ['T', 'B', 'H'],
        doc: 'h_t of every step (the layer\'s output; the final state is h[T-1]); saved for backward' },
      { name: 'c', role: 'out', dtype: 'float', shape: ['T', 'B', 'H'],
        doc: 'c_t of every step (the final cell state is c[T-1]); saved for backward' },
      { name: 'gates', role: 'out', dtype: 'float', shape: ['T', 'B', '4H'], doc: 'gate activations of every step; saved for backward' },
      { name: 'tanhC', role: 'out', dtype: 'float', shape: ['T', 'B', 'H'], doc: 'tanh(c_t) of every step; saved for backward' },
    ],
  },
  lstmBackward: {
    file: 'lstm',
    doc: [
      'BPTT over one layer: per step (reversed) one fused gate-backward kernel and one GEMM for dh_{t-1}, or',
      'the persistent kernel for all steps where it fits (as lstmForward); after the loop big GEMMs for dW_ih,',
      'dW_hh, dx and a deterministic row reduction for the biases.',
    ],
    args: [
      { name: 'T', type: 'size', min: 1 },
      { name: 'B', type: 'size' },
      { name: 'I', type: 'size' },
      { name: 'H', type: 'size' },
      { name: 'x', role: 'in', dtype: 'float', shape: ['T', 'B', 'I'], doc: 'as given to lstmForward' },
      { name: 'wih', role: 'in', dtype: 'float', shape: ['4H', 'I'] },
      { name: 'whh', role: 'in', dtype: 'float', shape: ['4H', 'H'] },
      { name: 'h0', role: 'in', dtype: 'float', shape: ['B', 'H'] },
      { name: 'c0', role: 'in', dtype: 'float', shape: ['B', 'H'] },
      { name: 'h', role: 'in', dtype: 'float', shape: ['T', 'B', 'H'], doc: 'saved by lstmForward' },
      { name: 'c', role: 'in', dtype: 'float', shape: ['T', 'B', 'H'], doc: 'saved by lstmForward' },
      { name: 'gates', role: 'in', dtype: 'float', shape: ['T', 'B', '4H'], doc: 'saved by lstmForward' },
      { name: 'tanhC', role: 'in', dtype: 'float', shape: ['T', 'B', 'H'], doc: 'saved by lstmForward' },
      { name: 'dh', role: 'in', dtype: 'float', shape: ['T', 'B', 'H'], optional: true,
        doc: 'gradient w.r.t. the output h of every step, or null for zeros' },
      { name: 'dhT', role: 'in', dtype: 'float', shape: ['B', 'H'], optional: true,
        doc: 'gradient w.r.t. the final state h[T-1], or null for zeros' },
      { name: 'dcT', role: 'in', dtype: 'float', shape: ['B', 'H'], optional: true,
        doc: 'gradient w.r.t. the final state c[T-1], or null for zeros' },
      { name: 'dx', role: 'out', dtype: 'float', shape: ['T', 'B', 'I'], optional: true },
      { name: 'dh0', role: 'out', dtype: 'float', shape: ['B', 'H'], optional: true },
      { name: 'dc0', role: 'out', dtype: 'float', shape: ['B', 'H'], optional: true },
      { name: 'dwih', role: 'acc', dtype: 'float', shape: ['4H', 'I'], optional: true },
      { name: 'dwhh', role: 'acc', dtype: 'float', shape: ['4H', 'H'], optional: true },
      { name: 'dbih', role: 'acc', dtype: 'float', shape: ['4H'], optional: true },
      { name: 'dbhh', role: 'acc', dtype: 'float', shape: ['4H'], optional: true },
    ],
    workspace: {
      floats: 'lstm_backward_workspace_floats', of: ['T', 'B', 'H'],
      doc: 'dgates [T,B,4H] + dh carry [B,H] + dc carry [B,H]',
    },
  },

  // -------------------------------------------------------------------------------- softmax_xent.cu
  softmaxXentForward: {
    file: 'softmax_xent',
    doc: [
      'Fused softmax + cross-entropy per row, sums in double. A row of -inf gives lse = -inf (never NaN',
      'from the shift) and loss NaN unless ignored.',
    ],
    args: [
      { name: 'N', type: 'size' },
      { name: 'V', type: 'size' },
      { name: 'logits', role: 'in', dtype: 'float', shape: ['N', 'V'] },
      { name: 'targets', role: 'in', dtype: 'int32', shape: ['N'], index: 'V', ignore: 'ignoreIndex' },
      { name: 'ignoreIndex', type: 'i32' },
      { name: 'loss', role: 'out', dtype: 'float', shape: ['N'], doc: '-log softmax(logits[n])[targets[n]]; 0 on ignored rows' },
      { name: 'lse', role: 'out', dtype: 'float', shape: ['N'], doc: 'logsumexp(logits[n]) of every row; saved for backward' },
    ],
  },
  softmaxXentBackward: {
    file: 'softmax_xent',
    doc: ['dlogits = (softmax(logits[n]) - onehot(targets[n]))·dloss[n]; zero rows for ignored targets.'],
    args: [
      { name: 'N', type: 'size' },
      { name: 'V', type: 'size' },
      { name: 'logits', role: 'in', dtype: 'float', shape: ['N', 'V'] },
      { name: 'targets', role: 'in', dtype: 'int32', shape: ['N'], index: 'V', ignore: 'ignoreIndex' },
      { name: 'ignoreIndex', type: 'i32' },
      { name: 'lse', role: 'in', dtype: 'float', shape: ['N'], doc: 'saved by forward' },
      { name: 'dloss', role: 'in', dtype: 'float', shape: ['N'], doc: 'upstream gradient per row' },
      { name: 'dlogits', role: 'out', dtype: 'float', shape: ['N', 'V'] },
    ],
  },

  // ----------------------------------------------------------------------------------- embedding.cu
  embeddingForward: {
    file: 'embedding',
    doc: ['Gather: out[n] = weight[idx[n]].'],
    args: [
      { name: 'N', type: 'size' },
      { name: 'V', type: 'size' },
      { name: 'D', type: 'size' },
      { name: 'weight', role: 'in', dtype: 'float', shape: ['V', 'D'] },
      { name: 'idx', role: 'in', dtype: 'int32', shape: ['N'], index: 'V' },
      { name: 'out', role: 'out', dtype: 'float', shape: ['N', 'D'] },
    ],
  },
  embeddingBackward: {
    file: 'embedding',
    doc: ['Scatter-add: dweight[idx[n]] += dout[n], deterministic (no float atomics).'],
    args: [
      { name: 'N', type: 'size' },
      { name: 'V', type: 'size' },
      { name: 'D', type: 'size' },
      { name: 'idx', role: 'in', dtype: 'int32', shape: ['N'], index: 'V' },
      { name: 'dout', role: 'in', dtype: 'float', shape: ['N', 'D'] },
      { name: 'dweight', role: 'acc', dtype: 'float', shape: ['V', 'D'] },
    ],
  },

  // ---------------------------------------------------------------------------------------- rows.cu
  copyRows: {
    file: 'rows',
    doc: [
      'Row block copy between two row-major tables of D columns: dst[dstRow + r] (+)= src[srcRow + r] for',
      'r < R; accumulate selects += or =. One kernel for selecting a row, stacking rows and their gradients.',
    ],
    args: [
      { name: 'R', type: 'size' },
      { name: 'D', type: 'size' },
      { name: 'src', role: 'in', dtype: 'float', shape: ['srcRows', 'D'] },
      { name: 'srcRows', type: 'size' },
      { name: 'srcRow', type: 'size', upTo: 'srcRows-R' },
      { name: 'dst', role: 'inout', dtype: 'float', shape: ['dstRows', 'D'], noAlias: ['src'] },
      { name: 'dstRows', type: 'size' },
      { name: 'dstRow', type: 'size', upTo: 'dstRows-R' },
      { name: 'accumulate', type: 'bool' },
    ],
  },

  // ------------------------------------------------------------------------------------- dropout.cu
  dropoutMask: {
    file: 'dropout',
    doc: [
      'mask[i] = scale where (rngU32(seed, offset + i) >>> 8) >= threshold, else 0 (src/rng.ts, kernels/rng.cuh);',
      'threshold = round(p·2^24), scale = fround(1/(1-p)).',
    ],
    args: [
      { name: 'n', type: 'size' },
      { name: 'seed', type: 'u32' },
      { name: 'offset', type: 'u32', doc: 'element i uses counter offset + i (mod 2^32)' },
      { name: 'threshold', type: 'u32', max: 16777216 },
      { name: 'scale', type: 'f32', nan: false },
      { name: 'mask', role: 'out', dtype: 'float', shape: ['n'], doc: '0 or scale' },
    ],
  },

  // ---------------------------------------------------------------------------------------- adam.cu
  adamStep: {
    file: 'adam',
    doc: [
      'Fused Adam step. decoupled: AdamW (param *= 1 - lr·wd); else L2 added to the gradient (PyTorch Adam).',
      'bc1 = 1 - beta1^step, bc2 = 1 - beta2^step, computed on the host in double.',
    ],
    args: [
      { name: 'n', type: 'size' },
      { name: 'param', role: 'inout', dtype: 'float', shape: ['n'] },
      { name: 'grad', role: 'in', dtype: 'float', shape: ['n'] },
      { name: 'm', role: 'inout', dtype: 'float', shape: ['n'], doc: 'first moment' },
      { name: 'v', role: 'inout', dtype: 'float', shape: ['n'], doc: 'second moment' },
      { name: 'lr', type: 'f32', nan: false },
      { name: 'beta1', type: 'f32', nan: false },
      { name: 'beta2', type: 'f32', nan: false },
      { name: 'eps', type: 'f32', nan: false },
      { name: 'weightDecay', type: 'f32', nan: false },
      { name: 'decoupled', type: 'bool' },
      { name: 'bc1', type: 'f32', nan: false },
      { name: 'bc2', type: 'f32', nan: false },
    ],
  },
  sgdStep: {
    file: 'adam',
    doc: ['SGD with momentum (PyTorch): first step buf = g, else buf = momentum·buf + g.'],
    args: [
      { name: 'n', type: 'size' },
      { name: 'param', role: 'inout', dtype: 'float', shape: ['n'] },
      { name: 'grad', role: 'in', dtype: 'float', shape: ['n'] },
      { name: 'buf', role: 'inout', dtype: 'float', shape: ['n'], optional: true, requiredWhen: 'momentum',
        doc: 'momentum buffer, or null when momentum = 0' },
      { name: 'lr', type: 'f32', nan: false },
      { name: 'momentum', type: 'f32', nan: false },
      { name: 'weightDecay', type: 'f32', nan: false },
      { name: 'first', type: 'bool', doc: 'true on the first step' },
    ],
  },

  // ----------------------------------------------------------------------------------- grad_norm.cu
  sumSquares: {
    file: 'grad_norm',
    doc: ['out[outIndex] = Σ x[0..n)² (grad-norm partial; one out storage gathers every parameter\'s), deterministic.'],
    args: [
      { name: 'n', type: 'size' },
      { name: 'x', role: 'in', dtype: 'float', shape: ['n'] },
      { name: 'out', role: 'out', dtype: 'float', shape: ['outIndex+1'] },
      { name: 'outIndex', type: 'size' },
    ],
  },

  // --------------------------------------------------------------------------------- elementwise.cu
  fill: {
    file: 'elementwise',
    doc: ['x[i] = value for i < n.'],
    args: [
      { name: 'n', type: 'size' },
      { name: 'x', role: 'out', dtype: 'float', shape: ['n'] },
      { name: 'value', type: 'f32' },
    ],
  },
  axpby: {
    file: 'elementwise',
    doc: ['out = alpha·x + beta·y; out may alias x or y.'],
    args: [
      { name: 'n', type: 'size' },
      { name: 'alpha', type: 'f32' },
      { name: 'x', role: 'in', dtype: 'float', shape: ['n'] },
      { name: 'beta', type: 'f32' },
      { name: 'y', role: 'in', dtype: 'float', shape: ['n'] },
      { name: 'out', role: 'out', dtype: 'float', shape: ['n'] },
    ],
  },
  affine: {
    file: 'elementwise',
    doc: ['out = alpha·x + beta; out may alias x.'],
    args: [
      { name: 'n', type: 'size' },
      { name: 'alpha', type: 'f32' },
      { name: 'x', role: 'in', dtype: 'float', shape: ['n'] },
      { name: 'beta', type: 'f32' },
      { name: 'out', role: 'out', dtype: 'float', shape: ['n'] },
    ],
  },
  mul: {
    file: 'elementwise',
    doc: ['out = x⊙y; out may alias x or y.'],
    args: [
      { name: 'n', type: 'size' },
      { name: 'x', role: 'in', dtype: 'float', shape: ['n'] },
      { name: 'y', role: 'in', dtype: 'float', shape: ['n'] },
      { name: 'out', role: 'out', dtype: 'float', shape: ['n'] },
    ],
  },
  sum: {
    file: 'elementwise',
    doc: ['out[0] = Σ x[0..n), deterministic.'],
    args: [
      { name: 'n', type: 'size' },
      { name: 'x', role: 'in', dtype: 'float', shape: ['n'] },
      { name: 'out', role: 'out', dtype: 'float', shape: ['1'] },
    ],
  },
  addRowVector: {
    file: 'elementwise',
    doc: ['x[m,j] += b[j].'],
    args: [
      { name: 'M', type: 'size' },
      { name: 'N', type: 'size' },
      { name: 'x', role: 'inout', dtype: 'float', shape: ['M', 'N'] },
      { name: 'b', role: 'in', dtype: 'float', shape: ['N'] },
    ],
  },
  sumRows: {
    file: 'elementwise',
    doc: ['out[j] (+)= Σ_m x[m,j]; accumulate selects += or =; deterministic.'],
    args: [
      { name: 'M', type: 'size' },
      { name: 'N', type: 'size' },
      { name: 'x', role: 'in', dtype: 'float', shape: ['M', 'N'] },
      { name: 'out', role: 'inout', dtype: 'float', shape: ['N'] },
      { name: 'accumulate', type: 'bool' },
    ],
  },

  // -------------------------------------------------------------------------------------- sample.cu
  sample: {
    file: 'sample',
    doc: [
      'Per row b: a token drawn from softmax(logits[b]/temperature) filtered by top-k / top-p with',
      'u = rngUniform(seed, offset + b). Identical on every backend: p = softmax(logits/temperature); order',
      'candidates by p descending, ties by index ascending; keep the first topK (0 = all); then the shortest',
      'prefix whose running sum ≥ topP (at least one); mass = sum of kept p; walk the kept list accumulating p',
      'and pick the first whose running sum > u·mass (the last kept if rounding leaves none). temperature ≤ 0:',
      'greedy (argmax, lowest index on ties). A row with NaN or +inf gives the argmax of its non-NaN logits.',
    ],
    args: [
      { name: 'B', type: 'size' },
      { name: 'V', type: 'size', min: 1 },
      { name: 'logits', role: 'in', dtype: 'float', shape: ['B', 'V'] },
      { name: 'temperature', type: 'f32', nan: false },
      { name: 'topK', type: 'size', doc: 'keep the topK most probable (0 = all)' },
      { name: 'topP', type: 'f32', gt: 0, le: 1, doc: 'nucleus mass (1 = all)' },
      { name: 'seed', type: 'u32' },
      { name: 'offset', type: 'u32', doc: 'row b draws u = rngUniform(seed, offset + b)' },
      { name: 'offsetAdd', role: 'in', dtype: 'int32', shape: ['1'], optional: true,
        doc: 'a counter on the device: when given, row b draws u = rngUniform(seed, offset + offsetAdd[0] + b) (mod 2^32), so a replayed CUDA graph draws new numbers' },
      { name: 'tokens', role: 'out', dtype: 'int32', shape: ['B'], values: 'V' },
      { name: 'logp', role: 'out', dtype: 'float', shape: ['B'],
        doc: 'log softmax(logits[b])[token] under the model (temperature 1, no filtering)' },
      { name: 'entropy', role: 'out', dtype: 'float', shape: ['B'], doc: 'entropy of softmax(logits[b]) (temperature 1), in nats' },
    ],
    workspace: {
      floats: 'sample_workspace_floats', of: ['B', 'V'],
      doc: 'the candidates being ordered: p [n,P] doubles then indices [n,P] ints, P = the power of two ≥ V, n rows at a time (0 where they fit on chip)',
    },
  },
});
