// How much probability the UTF-8 mask removes when sampling from a byte model: for each of `count` samples
// of `length` bytes at temperature 1 (drawn with the mask, as `sample` does), the mass the model put on
// bytes that cannot continue valid UTF-8 at each step (Σ p over masked symbols, under the unmasked
// distribution); and how many raw-byte samples (no mask, same seeds) contain U+FFFD. One JSON line per run
// directory. usage: node build/bench/utf8_mass.js RUN... [--count N] [--length N]
import { loadCheckpoint } from '../src/checkpoint/checkpoint.js';
import { Generator } from '../src/sample/generator.js';
import { sample } from '../src/sample/sample.js';

const args = process.argv.slice(2);
const flag = (name: string, d: number) => { const i = args.indexOf(`--${name}`); return i >= 0 ? Number(args.splice(i, 2)[1]) : d; };
const count = flag('count', 200), length = flag('length', 200);
for (const dir of args) {
  const ck = loadCheckpoint(dir); // the default device
  if (ck.vocab.mode !== 'byte') throw new Error(`${dir}: not a byte model`);
  const V = ck.vocab.size;
  let steps = 0, removed = 0, maxRemoved = 0, stepsOver1pct = 0, fffd = 0, rawFffd = 0;
  for (let i = 0; i < count; i++) {
    const gen = new Generator(ck.model, ck.vocab);
    gen.feed([10]); // '\n', as sample does without a prime
    let text = '';
    const dec = ck.vocab.streamDecoder();
    for (let s = 0; s < length || !gen.atBoundary; s++) {
      const x = gen.nextLogits.toArray();
      let mx = -Infinity;
      for (let v = 0; v < V; v++) mx = Math.max(mx, x[v]!);
      let z = 0, bad = 0;
      for (let v = 0; v < V; v++) { const e = Math.exp(x[v]! - mx); z += e; if (!gen.allows(v)) bad += e; }
      const r = bad / z;
      removed += r; maxRemoved = Math.max(maxRemoved, r); steps++;
      if (r > 0.01) stepsOver1pct++;
      const d = gen.draw({ temperature: 1, topK: 0, topP: 1, seed: i, offset: s });
      if (d.token === ck.vocab.stopId) break;
      text += dec.push(d.token);
      gen.feed([d.token]);
    }
    text += dec.flush();
    if (text.includes('\ufffd')) fffd++;
    gen.dispose();
    if (sample(ck.model, ck.vocab, { maxLength: length, temperature: 1, seed: i, rawBytes: true }).text.includes('\ufffd')) rawFffd++;
  }
  console.log(JSON.stringify({
    bench: 'utf8_mass', run: dir, step: ck.step, samples: count, length, steps,
    meanRemovedMass: removed / steps, maxRemovedMass: maxRemoved, stepsRemovingOver1pct: stepsOver1pct,
    maskedSamplesWithFFFD: fffd, rawSamplesWithFFFD: rawFffd,
  }));
  ck.model.dispose();
}
