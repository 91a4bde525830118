// The README's code is checked for real. Every ```ts / ```js block is compiled by tsc under --strict, and the
// block after `<!-- readme-example: api` is executed on the cpu backend (it throws if the model does not
// learn). Both are written into the package (build/readme-*/), so `import … from 'lstm-cuda'` resolves
// through package.json's exports to dist/: a README that drifts from the API fails here.
import test from 'tape';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..');

test('README: every TypeScript and JavaScript block compiles under tsc --strict', (t) => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/^```(ts|typescript|js|javascript|mjs)\n([\s\S]*?)^```/gm)].map((m) => ({
    line: readme.slice(0, m.index).split('\n').length, code: m[2]!,
  }));
  t.ok(blocks.length >= 2, `${blocks.length} code blocks found (the library example and "From code")`);
  const dir = mkdtempSync(join(root, 'build', 'readme-'));
  try {
    const files = blocks.map((b) => {
      const file = join(dir, `readme-line-${b.line}.ts`);
      writeFileSync(file, b.code);
      return file;
    });
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'ES2022', '--module', 'NodeNext',
      '--moduleResolution', 'NodeNext', '--lib', 'ES2022', '--types', 'node', '--skipLibCheck', ...files], { encoding: 'utf8', cwd: root });
    t.equal(r.status, 0, `tsc --strict on ${blocks.map((b) => `README.md:${b.line}`).join(', ')}${r.status ? `:\n${r.stdout}${r.stderr}` : ''}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  t.end();
});

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
