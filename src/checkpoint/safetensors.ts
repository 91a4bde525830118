// The safetensors file format (https://github.com/huggingface/safetensors), host side:
//   [8 bytes: header length N, little-endian u64][N bytes: JSON header, space-padded to a multiple of 8][data]
// header = { "__metadata__": {string: string}, name: { dtype: "F32"|"F64"|"I32", shape: [...], data_offsets: [begin, end] } }
// with offsets relative to the start of the data. Writing is atomic (temp file + rename); reading checks
// every field and names the file and the problem (truncated, corrupt JSON, offsets out of range, size mismatch).
// Our files carry a CRC-32 of every tensor's bytes in the metadata key `lstm_cuda.crc32` (JSON: name → hex);
// reading checks them, so a flipped data byte is an error naming the tensor. Files without the key (older
// runs, other writers) are read unchecked.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../atomic_write.js';
import { checkBytes, checkObject, checkShapeArg, checkString, given } from '../args.js';

export { writeFileAtomic };

export type SafetensorsDType = 'F32' | 'F64' | 'I32';
export type HostArray = Float32Array | Float64Array | Int32Array;

export interface HostTensor {
  shape: number[];
  data: HostArray;
}

const DTYPE_OF: Record<SafetensorsDType, { bytes: number; make: (buf: ArrayBuffer) => HostArray }> = {
  F32: { bytes: 4, make: (b) => new Float32Array(b) },
  F64: { bytes: 8, make: (b) => new Float64Array(b) },
  I32: { bytes: 4, make: (b) => new Int32Array(b) },
};

export const CRC_KEY = 'lstm_cuda.crc32';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE, as zlib) of the bytes, as 8 hex digits */
export function crc32(bytes: Uint8Array): string {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ((c ^ 0xffffffff) >>> 0).toString(16).padStart(8, '0');
}

/** the checksum entry that covers the metadata strings themselves (config, vocabulary, step, …) */
const META_CRC = '__metadata__';

function metadataCrc(metadata: Record<string, string>): string {
  const keys = Object.keys(metadata).filter((k) => k !== CRC_KEY).sort();
  return crc32(new TextEncoder().encode(JSON.stringify(keys.map((k) => [k, metadata[k]]))));
}

function bytesOf(a: HostArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function dtypeOf(a: HostArray): SafetensorsDType {
  return a instanceof Float32Array ? 'F32' : a instanceof Float64Array ? 'F64' : 'I32';
}

/** Serialises tensors (in the given order) and string metadata to safetensors bytes. */
export function encodeSafetensors(tensors: Record<string, HostTensor>, metadata: Record<string, string> = {}): Uint8Array {
  checkObject('encodeSafetensors: tensors', tensors);
  for (const [name, t] of Object.entries(tensors)) {
    checkObject(`encodeSafetensors: tensors['${name}']`, t);
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array || t.data instanceof Int32Array)) {
      throw new TypeError(`encodeSafetensors: tensors['${name}'].data must be a Float32Array, Float64Array or Int32Array, got ${given(t.data)}`);
    }
    checkShapeArg(`encodeSafetensors: tensors['${name}']`, t.shape);
  }
  checkObject('encodeSafetensors: metadata', metadata);
  for (const [k, v] of Object.entries(metadata)) checkString(`encodeSafetensors: metadata['${k}']`, v);
  const crcs: Record<string, string> = { [META_CRC]: metadataCrc(metadata) };
  for (const [name, t] of Object.entries(tensors)) crcs[name] = crc32(bytesOf(t.data));
  const header: Record<string, unknown> = { __metadata__: { ...metadata, [CRC_KEY]: JSON.stringify(crcs) } };
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new RangeError(`safetensors: tensor '${name}' has shape [${t.shape}] (${n} elements) but ${t.data.length} values`);
    const bytes = t.data.byteLength;
    header[name] = { dtype: dtypeOf(t.data), shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let hbytes = enc.encode(json);
  const pad = (8 - (hbytes.length % 8)) % 8;
  if (pad) hbytes = enc.encode(json + ' '.repeat(pad));
  const out = new Uint8Array(8 + hbytes.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(hbytes.length), true);
  out.set(hbytes, 8);
  let o = 8 + hbytes.length;
  for (const t of Object.values(tensors)) {
    // typed arrays are little-endian on every platform Node supports
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), o);
    o += t.data.byteLength;
  }
  return out;
}

/** Parses safetensors bytes; `what` (the file name) goes into every error. */
export function decodeSafetensors(bytes: Uint8Array, what: string): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  const fail = (msg: string): never => { throw new Error(`${what}: ${msg}`); };
  checkBytes('decodeSafetensors: bytes', bytes);
  if (bytes.length < 8) fail(`truncated: ${bytes.length} bytes, shorter than the 8-byte header length`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = dv.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) fail(`truncated or not a safetensors file: header length ${n64} but only ${bytes.length - 8} bytes follow`);
  const n = Number(n64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    fail(`corrupt header (not valid JSON: ${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) fail('corrupt header (not a JSON object)');
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const tensors: Record<string, HostTensor> = {};
  const spans: [number, number, string][] = [];
  for (const [name, v] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!v || typeof v !== 'object') fail('corrupt header (__metadata__ is not an object)');
      for (const [k, s] of Object.entries(v as Record<string, unknown>)) {
        if (typeof s !== 'string') fail(`corrupt header (__metadata__.${k} is not a string)`);
        metadata[k] = s as string;
      }
      continue;
    }
    const e = v as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object') fail(`corrupt header (entry '${name}' is not an object)`);
    const dt = DTYPE_OF[e.dtype as SafetensorsDType];
    if (typeof e.dtype !== 'string' || !dt) fail(`tensor '${name}' has unsupported dtype ${JSON.stringify(e.dtype)} (supported: F32, F64, I32)`);
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isInteger(d) || d < 0)) fail(`tensor '${name}' has a bad shape ${JSON.stringify(e.shape)}`);
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((x) => Number.isInteger(x) && x >= 0) || off[0] > off[1]) {
      fail(`tensor '${name}' has bad data_offsets ${JSON.stringify(off)}`);
    }
    const [b0, b1] = off as [number, number];
    const shape = e.shape as number[];
    const count = shape.reduce((a, b) => a * b, 1);
    if (b1 - b0 !== count * dt.bytes) fail(`tensor '${name}': shape [${shape}] of ${e.dtype} needs ${count * dt.bytes} bytes but data_offsets span ${b1 - b0}`);
    if (b1 > dataLen) fail(`truncated: tensor '${name}' ends at data byte ${b1} but the file has only ${dataLen} bytes of data`);
    spans.push([b0, b1, name]);
    const buf = new ArrayBuffer(b1 - b0);
    new Uint8Array(buf).set(bytes.subarray(dataStart + b0, dataStart + b1));
    tensors[name] = { shape, data: dt.make(buf) };
  }
  spans.sort((a, b) => a[0] - b[0]);
  let end = 0;
  for (const [b0, b1, name] of spans) {
    if (b0 !== end) fail(`corrupt: tensor '${name}' starts at data byte ${b0}, expected ${end} (overlap or gap)`);
    end = b1;
  }
  if (end !== dataLen) fail(`corrupt: ${dataLen - end} trailing bytes after the last tensor`);
  const crcText = metadata[CRC_KEY];
  if (crcText !== undefined) {
    let crcs: Record<string, unknown>;
    try {
      crcs = JSON.parse(crcText) as Record<string, unknown>;
    } catch {
      return fail(`corrupt header (metadata ${CRC_KEY} is not valid JSON)`);
    }
    if (crcs[META_CRC] !== undefined && crcs[META_CRC] !== metadataCrc(metadata)) {
      fail(`corrupt header: the metadata (config, vocabulary, …) has checksum ${metadataCrc(metadata)}, the header says ${String(crcs[META_CRC])} (the file was damaged after it was written)`);
    }
    for (const [name, t] of Object.entries(tensors)) {
      const want = crcs[name];
      if (typeof want !== 'string') fail(`corrupt header (no checksum for tensor '${name}')`);
      const got = crc32(bytesOf(t.data));
      if (got !== want) fail(`corrupt data: tensor '${name}' has checksum ${got}, the header says ${want as string} (the file was damaged after it was written)`);
    }
    delete metadata[CRC_KEY];
  }
  return { tensors, metadata };
}

/** Writes bytes to `path` atomically: a temp file in the same directory, fsync, rename. */
export function writeSafetensors(path: string, tensors: Record<string, HostTensor>, metadata: Record<string, string> = {}): void {
  checkString('writeSafetensors: path', path);
  writeFileAtomic(path, encodeSafetensors(tensors, metadata));
}

export function readSafetensors(path: string): { tensors: Record<string, HostTensor>; metadata: Record<string, string> } {
  checkString('readSafetensors: path', path);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read checkpoint '${path}': ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  return decodeSafetensors(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), `checkpoint '${path}'`);
}
