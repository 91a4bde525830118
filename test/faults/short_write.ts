// Preloaded (node --import) into children of faults.test.ts where no small tmpfs can be mounted: every
// fs.writeSync behaves like a nearly full disk once LSTM_CUDA_FAULT_WRITE_BUDGET bytes have been written —
// one short write, then ENOSPC — as the kernel does when the last blocks run out.
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

let budget = Number(process.env.LSTM_CUDA_FAULT_WRITE_BUDGET ?? Infinity);
const realWriteSync = fs.writeSync;

function enospc(): never {
  throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

(fs as { writeSync: unknown }).writeSync = function writeSync(fd: number, data: NodeJS.ArrayBufferView | string, ...rest: unknown[]): number {
  if (typeof data === 'string') data = Buffer.from(data);
  const offset = typeof rest[0] === 'number' ? rest[0] : 0;
  const length = typeof rest[1] === 'number' ? rest[1] : data.byteLength - offset;
  if (budget <= 0) enospc();
  const n = Math.min(length, budget);
  const done = realWriteSync(fd, data, offset, n);
  budget -= done;
  return done;
};
syncBuiltinESMExports();
