// The install script's up-to-date stamps and what `lstm-cuda info` says after a failed native build,
// without building any addon here (fast):
//   - native/build.mjs's inputsHash changes with exactly what a build reads (kernels/, native/,
//     binding.gyp, the kernel spec, the toolchain) and stampsMatch accepts only a loading addon with
//     its stamp: checked on a temporary directory;
//   - the script itself, run as `npm install` runs it, in a copy of the package whose addons carry
//     current stamps: it says they are up to date and builds nothing (what `npx lstm-cuda` in a checkout
//     re-runs);
//   - `lstm-cuda info` in a copy of the package whose addons are missing and whose build log holds a
//     compiler error: each backend's reason quotes that first error and names the log.
import test from 'tape';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { firstBuildError } from '../src/native.js';

const root = resolve(import.meta.dirname, '..', '..');

interface BuildScript {
  inputsHash(pkg: string, kind: 'emu' | 'cuda', tools?: string): string;
  stampFile(artifact: string): string;
  stampsMatch(pkg: string, artifacts: Record<string, string>, hash: string, loadError: (file: string) => string | null): boolean;
}
const build = (await import(pathToFileURL(join(root, 'native', 'build.mjs')).href)) as BuildScript;

function write(pkg: string, file: string, text: string): void {
  mkdirSync(dirname(join(pkg, file)), { recursive: true });
  writeFileSync(join(pkg, file), text);
}

function withTemp(prefix: string, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('install: the inputs hash changes with what a build reads, and only with that', (t) => {
  withTemp('lstm-stamp-', (pkg) => {
    const files: Record<string, string> = {
      'binding.gyp': "{ 'targets': [] }",
      'kernels/adam.cu': '// kernel',
      'kernels/emu/cuda_emu.h': '// emulator',
      'native/addon.cc': '// glue',
      'native/gen/kernel_glue.cc': '// generated',
      'native/build/junk.o': 'object',
      'src/spec/kernels.mjs': 'export const KERNELS = {};',
      'src/tensor.ts': 'export {};',
    };
    for (const [f, text] of Object.entries(files)) write(pkg, f, text);
    const h0 = build.inputsHash(pkg, 'emu', 'node v20 / g++ 12');
    t.equal(build.inputsHash(pkg, 'emu', 'node v20 / g++ 12'), h0, 'the same inputs give the same hash');
    t.notEqual(build.inputsHash(pkg, 'cuda', 'node v20 / g++ 12'), h0, 'another build kind: another hash');
    t.notEqual(build.inputsHash(pkg, 'emu', 'node v22 / g++ 12'), h0, 'another node or compiler version: another hash');
    for (const f of ['binding.gyp', 'kernels/adam.cu', 'kernels/emu/cuda_emu.h', 'native/addon.cc', 'src/spec/kernels.mjs']) {
      write(pkg, f, `${files[f]} changed`);
      t.notEqual(build.inputsHash(pkg, 'emu', 'node v20 / g++ 12'), h0, `a change to ${f} means rebuild`);
      write(pkg, f, files[f]!);
    }
    write(pkg, 'kernels/new_op.cu', '// new kernel');
    t.notEqual(build.inputsHash(pkg, 'emu', 'node v20 / g++ 12'), h0, 'a new file under kernels/ means rebuild');
    rmSync(join(pkg, 'kernels/new_op.cu'));
    for (const f of ['src/tensor.ts', 'native/gen/kernel_glue.cc', 'native/build/junk.o']) {
      write(pkg, f, `${files[f]} changed`);
      t.equal(build.inputsHash(pkg, 'emu', 'node v20 / g++ 12'), h0, `a change to ${f} (not a build input) does not`);
    }
  });
  t.end();
});

test('install: a stamp matches only an addon that exists, loads and was built from the same inputs', (t) => {
  withTemp('lstm-stamp-', (pkg) => {
    const artifacts = { emu: 'build/Release/a.node', cpu: 'build/Release/b.node' };
    const loads = (): null => null;
    t.notOk(build.stampsMatch(pkg, artifacts, 'h1', loads), 'no addon: not up to date');
    write(pkg, artifacts.emu, 'addon');
    write(pkg, artifacts.cpu, 'addon');
    t.notOk(build.stampsMatch(pkg, artifacts, 'h1', loads), 'addons without stamps: not up to date');
    write(pkg, build.stampFile(artifacts.emu), 'h1');
    t.notOk(build.stampsMatch(pkg, artifacts, 'h1', loads), 'one of the two stamped: not up to date');
    write(pkg, build.stampFile(artifacts.cpu), 'h1');
    t.ok(build.stampsMatch(pkg, artifacts, 'h1', loads), 'both stamped with the current hash: up to date');
    t.notOk(build.stampsMatch(pkg, artifacts, 'h2', loads), 'inputs changed since: not up to date');
    t.notOk(build.stampsMatch(pkg, artifacts, 'h1', (f) => (f === artifacts.cpu ? 'undefined symbol: x' : null)), 'an addon that does not load: not up to date');
  });
  t.end();
});

test('install: under npm install, addons with current stamps are not rebuilt', (t) => {
  const addons = ['build/Release/lstm_cuda_emu.node', 'build/Release/lstm_cuda_cpu.node'];
  withTemp('lstm-install-', (pkg) => {
    for (const p of ['package.json', 'binding.gyp', 'kernels', 'native', 'src/spec', ...addons]) {
      cpSync(join(root, p), join(pkg, p), { recursive: true, filter: (f) => !/[/\\]native[/\\](build|gen)$/.test(f) });
    }
    const hash = build.inputsHash(pkg, 'emu');
    for (const a of addons) writeFileSync(join(pkg, build.stampFile(a)), hash);
    const env = { ...process.env, npm_lifecycle_event: 'install', LSTM_CUDA_REBUILD: '' };
    const t0 = Date.now();
    const r = spawnSync(process.execPath, ['native/build.mjs', '--emu-only'], { cwd: pkg, encoding: 'utf8', env, timeout: 120_000 });
    const ms = Date.now() - t0;
    t.equal(r.status, 0, `exit 0${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`);
    t.match(r.stdout, /^lstm-cuda: the cpu and emu addons are up to date \(build\/Release\/lstm_cuda_emu\.node, build\/Release\/lstm_cuda_cpu\.node, built [\d-]+ [\d:]+ UTC from the same sources; LSTM_CUDA_REBUILD=1 npm install rebuilds\)$/m, `says so: ${r.stdout.trim()}`);
    t.doesNotMatch(r.stdout, /building/, 'builds nothing');
    t.ok(!existsSync(join(pkg, 'build', 'native-emu.log')), 'no build log written');
    t.comment(`up-to-date check took ${ms} ms`);
    // one input changed: the stamps no longer match (the script would rebuild; not run here)
    writeFileSync(join(pkg, 'kernels', 'adam.cu'), `${readFileSync(join(pkg, 'kernels', 'adam.cu'), 'utf8')}\n// edited\n`);
    t.notOk(build.stampsMatch(pkg, { emu: addons[0]!, cpu: addons[1]! }, build.inputsHash(pkg, 'emu'), () => null), 'after editing a kernel: not up to date');
  });
  t.end();
});

test('install: firstBuildError picks the first compiler error, else the first error-like line', (t) => {
  t.equal(firstBuildError('$ node gyp build\n  CXX(target) Release/obj.target/x.o\nIn file included from a.cc:3:\n../kernels/adam.cu:23:8: error: ‘x’ does not name a type\nmake: *** [x.o] Error 1\n'),
    '../kernels/adam.cu:23:8: error: ‘x’ does not name a type', 'g++: the error: line, not make\'s');
  t.equal(firstBuildError('-- Configuring\nCMake Error at CMakeLists.txt:2 (project):\n  No CMAKE_CUDA_COMPILER could be found.\n'),
    'CMake Error at CMakeLists.txt:2 (project):', 'cmake: its Error line');
  t.equal(firstBuildError('kernels/gemm.cu(40): error: identifier "y" is undefined\n'), 'kernels/gemm.cu(40): error: identifier "y" is undefined', 'nvcc');
  t.equal(firstBuildError("gyp info ok\n  CXX(target) x.o -Werror\nlstm-cuda: built\n"), undefined, 'a clean log has none');
  t.end();
});

test('install: after a failed native build, `lstm-cuda info` quotes the first error and names the log', (t) => {
  withTemp('lstm-info-', (pkg) => {
    for (const p of ['package.json', 'binding.gyp', 'dist']) cpSync(join(root, p), join(pkg, p), { recursive: true });
    symlinkSync(join(root, 'node_modules'), join(pkg, 'node_modules'), 'dir');
    const error = "../native/gen/emu/../../../kernels/adam.cu:23:8: error: ‘__host__’ does not name a type";
    write(pkg, 'build/native-emu.log', `$ node node-gyp build --jobs 2\n  CXX(target) Release/obj.target/lstm_cuda_emu/native/gen/emu/adam.o\nIn file included from ../native/gen/emu/adam.cc:3:\n${error}\nmake: *** [lstm_cuda_emu.target.mk:141: adam.o] Error 1\ngyp ERR! build error\n`);
    const env: NodeJS.ProcessEnv = { ...process.env, LSTM_CUDA_DEVICE: '' };
    for (const k of ['LSTM_CUDA_CPU_ADDON', 'LSTM_CUDA_EMU_ADDON', 'LSTM_CUDA_CUDA_ADDON']) delete env[k];
    const r = spawnSync(process.execPath, ['dist/cli/main.js', 'info', '--json'], { cwd: pkg, encoding: 'utf8', env, timeout: 60_000 });
    t.equal(r.status, 0, `info runs${r.stderr ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`);
    const backends = (JSON.parse(r.stdout) as { backends: { name: string; available: boolean; reason?: string }[] }).backends;
    const log = join(pkg, 'build', 'native-emu.log');
    for (const name of ['cpu', 'emu']) {
      const b = backends.find((x) => x.name === name);
      t.equal(b?.available, false, `${name} is unavailable`);
      t.equal(b?.reason, `addon failed to build: ${error} (log: ${log}; rebuild: node native/build.mjs in ${pkg})`, `${name}: the compiler's error and the log`);
    }
    const cuda = backends.find((x) => x.name === 'cuda');
    t.match(cuda?.reason ?? '', /^addon not built: .* is missing \(needs nvcc at install time; run npm install; see .*native-cuda\.log\)$/, 'cuda, with no log: not built');
    t.equal(backends.find((x) => x.name === 'ref')?.available, true, 'ref still works');
  });
  t.end();
});
