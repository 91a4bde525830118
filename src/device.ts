// Device registry: which backends exist on this machine, which one is the default, and why one is not.
// Default: LSTM_CUDA_DEVICE if set, else `cuda` when its addon loads and sees a GPU, else `cpu` (the native
// CPU backend) when its addon loads, else `ref` (the TypeScript reference), saying why in one line.
import type { Backend, DeviceName } from './backend.js';
import { refBackend } from './cpu/index.js';
import { loadNativeBackend } from './native.js';
import { given } from './args.js';

export interface DeviceInfo {
  name: DeviceName;
  available: boolean;
  /** the device line (GPU name, emulator threads, CPU) when available */
  deviceName?: string;
  /** why it is unavailable, in one line */
  reason?: string;
}

const DEVICE_NAMES: readonly DeviceName[] = ['ref', 'cpu', 'emu', 'cuda'];
const loaded = new Map<DeviceName, { backend?: Backend; reason?: string }>();
let defaultName: DeviceName | undefined;

function load(name: DeviceName): { backend?: Backend; reason?: string } {
  let r = loaded.get(name);
  if (!r) {
    r = name === 'ref' ? { backend: refBackend } : loadNativeBackend(name);
    loaded.set(name, r);
  }
  return r;
}

export function isDeviceName(x: unknown): x is DeviceName {
  return typeof x === 'string' && (DEVICE_NAMES as readonly string[]).includes(x);
}

function checkName(name: unknown, what: string): DeviceName {
  if (!isDeviceName(name)) {
    throw new TypeError(`${what}: unknown device ${given(name)}; expected one of ${DEVICE_NAMES.join(', ')}`);
  }
  return name;
}

/** The backend for a device name (default device when omitted); a clear Error when unavailable. */
export function getBackend(name?: DeviceName): Backend {
  const n = name === undefined ? defaultDevice() : checkName(name, 'getBackend');
  const r = load(n);
  if (!r.backend) throw new Error(`device '${n}' is not available: ${r.reason ?? 'unknown reason'}`);
  return r.backend;
}

export function defaultDevice(): DeviceName {
  if (defaultName) return defaultName;
  const env = process.env.LSTM_CUDA_DEVICE;
  if (env !== undefined && env !== '') {
    defaultName = checkName(env, 'LSTM_CUDA_DEVICE');
    getBackend(defaultName); // fail now, with the reason, if it cannot load
    return defaultName;
  }
  if (load('cuda').backend) defaultName = 'cuda';
  else if (load('cpu').backend) defaultName = 'cpu';
  else {
    defaultName = 'ref';
    console.warn(`lstm-cuda: the native cpu backend is unavailable (${load('cpu').reason}); using the TypeScript reference 'ref'`);
  }
  return defaultName;
}

/** Sets the device new tensors and modules use when none is given. Throws if it is unavailable. */
export function setDefaultDevice(name: DeviceName): void {
  const n = checkName(name, 'setDefaultDevice');
  getBackend(n);
  defaultName = n;
}

/** Every backend, whether it is available here, its device line, and why not when it is not. */
export function devices(): DeviceInfo[] {
  return DEVICE_NAMES.map((name) => {
    const r = load(name);
    return r.backend
      ? { name, available: true, deviceName: r.backend.deviceName }
      : { name, available: false, reason: r.reason };
  });
}
