// The README's library example runs for real: the block after `<!-- readme-example: api` is written into the
// package (so `import … from 'lstm-cuda'` resolves through package.json's exports to dist/) and executed on
// the cpu backend. It throws if the model does not learn, so a README that drifts from the API fails here.
import test from 'tape';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

test('README: the library example runs and learns', (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const m = /<!-- readme-example: api[^>]*-->\s*```js\n([\s\S]*?)```/.exec(readme);
  t.ok(m, 'README has the marked example block');
  if (!m) return t.end();
  t.ok(existsSync(join(root, 'dist', 'index.js')), 'dist/ is built (npm test builds it first)');
  const dir = mkdtempSync(join(root, 'build', 'readme-'));
  try {
    const file = join(dir, 'example.mjs');
    writeFileSync(file, m[1]);
    const out = execFileSync(process.execPath, [file], {
      encoding: 'utf8',
      env: { ...process.env, LSTM_CUDA_DEVICE: 'ref' },
      timeout: 120_000,
    });
    t.match(out, /^ref: /m, 'prints the device list');
    const loss = Number(/loss after 200 steps: ([0-9.]+)/.exec(out)?.[1]);
    t.ok(loss < 0.1, `loss after 200 steps ${loss} < 0.1`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});
