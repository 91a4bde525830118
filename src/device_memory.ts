// Sizes refused before allocation. A tensor, module or training run that cannot fit is a RangeError that
// says how much it needs and how much the device has, instead of a process killed by the kernel's OOM
// killer (or V8's "Invalid typed array length"). The host-memory devices (ref, emu, the native cpu
// backend) have what the OS reports as available (MemAvailable, within a cgroup limit) less a headroom for
// the process itself; cuda refuses in cudaMalloc with its own clear error.
import { freemem } from 'node:os';

/** bytes left to the process and to the OS when an allocation is checked */
const HEADROOM = 256 * 2 ** 20;
/** allocations below this are not checked (asking the OS costs a read of /proc/meminfo); many small ones
 *  are checked as a whole where they are planned (module parameters, a training run) */
const CHECK_FROM = 64 * 2 ** 20;
/** V8's limit on a typed array's length (elements) */
export const MAX_TYPED_ARRAY_LENGTH = 2 ** 32;

export function formatBytes(n: number): string {
  if (n < 2 ** 20) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 2 ** 30) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n < 2 ** 50) return `${(n / 2 ** 30).toFixed(1)} GiB`;
  return `${n.toExponential(2)} bytes`;
}

/** bytes a host-memory device can still allocate, or undefined for devices with their own accounting */
export function availableBytes(device: string): number | undefined {
  if (device === 'cuda') return undefined;
  let avail = freemem();
  const limit = (process as { constrainedMemory?: () => number | undefined }).constrainedMemory?.();
  if (limit && limit < 2 ** 52) avail = Math.min(avail, limit - process.memoryUsage.rss());
  return Math.max(0, avail - HEADROOM);
}

/**
 * Throws a RangeError when `bytes` cannot be allocated on `device`. `what` names the allocation
 * ("a float32 tensor of 1000000000 elements", "Stack parameters", …); `hint` says what to change.
 */
export function checkAllocation(device: string, bytes: number, what: string, hint = ''): void {
  if (bytes < CHECK_FROM) return;
  const avail = availableBytes(device);
  if (avail === undefined || bytes <= avail) return;
  throw new RangeError(`${what} needs ${formatBytes(bytes)} but device '${device}' has ${formatBytes(avail)} available${hint ? `; ${hint}` : ''}`);
}

/** The check of one buffer of `length` elements (the typed-array limit applies to ref, whose buffers are typed arrays) of `bytesPerElement` (the backends' alloc/upload path). */
export function checkBuffer(device: string, length: number, bytesPerElement: number, dtype: string): void {
  if (length > MAX_TYPED_ARRAY_LENGTH && device === 'ref') {
    throw new RangeError(`a tensor of ${length} ${dtype} elements is larger than the ${MAX_TYPED_ARRAY_LENGTH} elements one host buffer can hold`);
  }
  checkAllocation(device, length * bytesPerElement, `a tensor of ${length} ${dtype} elements (${length * bytesPerElement} bytes)`);
}
