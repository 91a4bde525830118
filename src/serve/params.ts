// The JSON API's request bodies, checked field by field: a bad value is a ParamError (HTTP 400) whose
// message names the field, what it must be and what was sent. Unknown fields are errors too, so a typo
// ("temprature") is not silently ignored.

/** A bad request: the server answers 400 with { error: message }. */
export class ParamError extends Error {
  readonly status = 400;
}

export interface SampleParams {
  prime: string;
  length: number;
  temperature: number;
  topK: number;
  topP: number;
  /** uint32; absent: random (the reply says which seed was used) */
  seed?: number;
  /** 1 = sampling; K > 1 = beam search (the K most probable continuations; temperature, top-k/p, seed unused) */
  beam: number;
  /** most probable alternatives reported per step (0–10) */
  alternatives: number;
}

export interface ChatParams {
  message: string;
  /** the browser tab's conversation id (absent or unknown: a new conversation) */
  session?: string;
  temperature: number;
  /** uint32 seed of a new conversation's draws (default random) */
  seed?: number;
}

/** most characters one request may generate (a page asks for hundreds) */
export const MAX_LENGTH = 5000;
/** longest prime or chat message accepted */
export const MAX_TEXT = 20000;
/** beam search runs without yielding to other clients, so it is kept small */
export const MAX_BEAM = 8;
export const MAX_BEAM_LENGTH = 500;

interface Field {
  type: 'string' | 'number' | 'integer';
  default?: string | number;
  min?: number;
  max?: number;
  /** exclusive lower bound */
  above?: number;
  /** strings: most characters */
  maxChars?: number;
  optional?: boolean;
}

// the defaults are the CLI's (`lstm-cuda sample`)
const SAMPLE_FIELDS: Record<keyof SampleParams, Field> = {
  prime: { type: 'string', default: '', maxChars: MAX_TEXT },
  length: { type: 'integer', default: 300, min: 1, max: MAX_LENGTH },
  temperature: { type: 'number', default: 0.8, min: 0, max: 100 },
  topK: { type: 'integer', default: 0, min: 0 },
  topP: { type: 'number', default: 1, above: 0, max: 1 },
  seed: { type: 'integer', min: 0, max: 4294967295, optional: true },
  beam: { type: 'integer', default: 1, min: 1, max: MAX_BEAM },
  alternatives: { type: 'integer', default: 5, min: 0, max: 10 },
};

const CHAT_FIELDS: Record<keyof ChatParams, Field> = {
  message: { type: 'string', maxChars: MAX_TEXT },
  session: { type: 'string', maxChars: 100, optional: true },
  temperature: { type: 'number', default: 0.8, min: 0, max: 100 },
  seed: { type: 'integer', min: 0, max: 4294967295, optional: true },
};

function describe(f: Field): string {
  const what = f.type === 'string' ? 'a string' : f.type === 'integer' ? 'an integer' : 'a number';
  const lo = f.above !== undefined ? `> ${f.above}` : f.min !== undefined ? `≥ ${f.min}` : '';
  const hi = f.max !== undefined ? `≤ ${f.max}` : '';
  const range = [lo, hi].filter(Boolean).join(' and ');
  return range ? `${what} ${range}` : what;
}

function check<T>(body: unknown, fields: Record<string, Field>, what: string): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new ParamError(`${what}: the request body must be a JSON object, got ${body === null ? 'null' : Array.isArray(body) ? 'an array' : typeof body}`);
  }
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) {
    if (!(k in fields)) throw new ParamError(`${what}: unknown field '${k}' (known: ${Object.keys(fields).join(', ')})`);
  }
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(fields)) {
    const v = b[name];
    if (v === undefined || v === null) {
      if (f.default !== undefined) out[name] = f.default;
      else if (!f.optional) throw new ParamError(`${what}: '${name}' is required (${describe(f)})`);
      continue;
    }
    const bad = () => new ParamError(`${what}: '${name}' must be ${describe(f)}, got ${JSON.stringify(v)}`);
    if (f.type === 'string') {
      if (typeof v !== 'string') throw bad();
      if (f.maxChars !== undefined && v.length > f.maxChars) throw new ParamError(`${what}: '${name}' is ${v.length} characters long, at most ${f.maxChars} are accepted`);
      out[name] = v;
      continue;
    }
    // numbers may come as JSON numbers or as numeric strings (a form field)
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
    if (!Number.isFinite(n) || (f.type === 'integer' && !Number.isInteger(n))) throw bad();
    if ((f.min !== undefined && n < f.min) || (f.above !== undefined && n <= f.above) || (f.max !== undefined && n > f.max)) throw bad();
    out[name] = n;
  }
  return out as T;
}

export function parseSampleParams(body: unknown): SampleParams {
  const p = check<SampleParams>(body, SAMPLE_FIELDS, 'sample');
  if (p.beam > 1 && p.length > MAX_BEAM_LENGTH) throw new ParamError(`sample: with beam ${p.beam}, 'length' must be ≤ ${MAX_BEAM_LENGTH} (beam search runs in one go), got ${p.length}`);
  return p;
}

export function parseChatParams(body: unknown): ChatParams {
  const p = check<ChatParams>(body, CHAT_FIELDS, 'chat');
  if (!p.message.trim()) throw new ParamError(`chat: 'message' is empty`);
  return p;
}
