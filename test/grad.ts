// Float64 gradient checks on the reference backend: analytic gradients from backward() against central
// differences, with an upstream gradient that is not all ones (loss = Σ_k sum(y_k ⊙ w_k) with fixed random
// w_k, or sum((y+1)²)). Relative error per element: |analytic - numeric| / max(|analytic|, |numeric|, 1e-3)
// ≤ 1e-6. Shared by every op's test file (test/<op>.test.ts) and grad_check.test.ts (modules).
import type { Test } from 'tape';
import { Tensor, noGrad, tidy } from '../src/tensor.js';
import { add, mul } from '../src/ops/elementwise.js';
import { sum } from '../src/ops/reduce.js';

export const F64 = { dtype: 'float64', device: 'ref' } as const;
const STEP = 1e-5;
const TOL = 1e-6;

/** a float64 leaf N(0, scale²) */
export function leaf(shape: number[], seed: number, scale = 1): Tensor {
  const data = Tensor.randn(shape, { ...F64, seed }).toArray().map((v) => v * scale);
  return Tensor.from(data, shape, { ...F64, requiresGrad: true });
}

/** Σ_k sum(y_k ⊙ w_k) with fixed random weights per output */
export function weighted(ys: Tensor[]): Tensor {
  let total: Tensor | null = null;
  ys.forEach((y, k) => {
    const w = Tensor.randn([...y.shape], { ...F64, seed: 1000 + k });
    const term = sum(mul(y, w));
    total = total ? add(total, term) : term;
  });
  return total!;
}

/** sum((y + 1)²) */
export function squared(y: Tensor): Tensor {
  const z = add(y, 1);
  return sum(mul(z, z));
}

/** something with values that can be read, overwritten and differentiated */
export interface Variable {
  name: string;
  tensor: Tensor;
}

function write(t: Tensor, data: Float64Array): void {
  const be = t.backend;
  const tmp = be.upload(data);
  be.copy(tmp, t._storage);
  be.free(tmp);
}

/** Compares backward()'s gradient of every variable with central differences of loss(). */
export function check(t: Test, what: string, vars: Variable[], loss: () => Tensor, before?: () => void): void {
  for (const v of vars) v.tensor.grad = null;
  before?.();
  tidy(() => loss().backward());
  let worst = 0;
  let where = '';
  for (const v of vars) {
    const analytic = v.tensor.grad ? (v.tensor.grad.toArray() as Float64Array) : new Float64Array(v.tensor.size);
    const data = v.tensor.toArray() as Float64Array;
    for (let i = 0; i < data.length; i++) {
      const orig = data[i];
      const f = (x: number): number => {
        data[i] = x;
        write(v.tensor, data);
        before?.();
        return tidy(() => noGrad(() => loss().item()));
      };
      const numeric = (f(orig + STEP) - f(orig - STEP)) / (2 * STEP);
      data[i] = orig;
      write(v.tensor, data);
      const rel = Math.abs(analytic[i] - numeric) / Math.max(Math.abs(analytic[i]), Math.abs(numeric), 1e-3);
      if (rel > worst) {
        worst = rel;
        where = `${v.name}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`;
      }
    }
  }
  t.ok(worst <= TOL, `${what}: max relative error ${worst.toExponential(2)} ≤ ${TOL}${worst > TOL ? ` (worst ${where})` : ''}`);
}

export const vars = (named: Record<string, Tensor>): Variable[] => Object.entries(named).map(([name, tensor]) => ({ name, tensor }));
