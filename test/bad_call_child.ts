// Child process of kernel_spec.test.ts: makes one bad call (test/bad_calls.ts) through an exported backend
// object and prints {"type", "message"} of the Error it throws. Exits 0 when it threw, 3 when it did not;
// a crash shows in the parent as a signal or another exit code.
// Usage: node build/test/bad_call_child.js BACKEND CASE_INDEX
import { getBackend } from '../src/device.js';
import type { DeviceName } from '../src/backend.js';
import { BAD_CALLS } from './bad_calls.js';

const [name, index] = process.argv.slice(2);
const be = getBackend(name as DeviceName);
const c = BAD_CALLS[Number(index)];
const args = c.args(be);
try {
  (be[c.kernel] as (a: unknown) => void)(args);
  console.log(JSON.stringify({ threw: false }));
  process.exitCode = 3;
} catch (e) {
  const err = e as Error;
  console.log(JSON.stringify({ threw: true, type: err.constructor.name, message: err.message }));
}
