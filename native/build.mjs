// Builds the native addons; npm's `install` script runs it (before `prepare`, so it needs no dist/).
//   emu, cpu: node-gyp configure + build (binding.gyp)        -> build/Release/lstm_cuda_emu.node and
//                                                                build/Release/lstm_cuda_cpu.node
//   cuda: cmake-js build -d native -O build/cuda, when nvcc    -> build/cuda/Release/lstm_cuda.node
//         is on the PATH and LSTM_CUDA_SKIP_CUDA is not 1
//   --asan: the emu addon under AddressSanitizer, by g++ directly -> build/asan/lstm_cuda_emu.node
// Env: LSTM_CUDA_SKIP_CUDA=1 skips cuda; LSTM_CUDA_ARCHS overrides the CUDA architectures;
// LSTM_CUDA_REBUILD=1 rebuilds even when up to date.
// Flags: --emu-only, --cuda-only, --asan. A failed build prints one line naming its log and exits 0
// (the ref backend still works; `lstm-cuda info` quotes the log's first error) unless --strict is given.
// Up to date: after a good build each addon gets a stamp beside it (<addon>.inputs: a hash of what the
// build reads, see inputsHash); under `npm install` an addon whose stamp matches is not rebuilt, so
// `npx lstm-cuda` in a checkout (npm exec re-runs the install script) takes seconds, not minutes. Run by
// hand, this script always builds. Nothing here downloads: node-gyp gets Node's headers from npm's
// nodedir (or the running node's own prefix), cmake-js uses node-api-headers.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

import { GEN_DIR, emuSources, generateGlue } from './gen_glue.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(root, 'package.json'));
const args = new Set(process.argv.slice(2));
const strict = args.has('--strict');
const jobs = String(Math.max(1, Math.min(2, cpus().length)));

const EMU_ADDON = 'build/Release/lstm_cuda_emu.node';
const CPU_ADDON = 'build/Release/lstm_cuda_cpu.node';
const CUDA_ADDON = 'build/cuda/Release/lstm_cuda.node';
const ASAN_ADDON = 'build/asan/lstm_cuda_emu.node';
const LOGS = { emu: 'build/native-emu.log', cuda: 'build/native-cuda.log', asan: 'build/native-asan.log' };

const rel = (p) => relative(process.cwd(), join(root, p)) || '.';

// ------------------------------------------------------------------------------------ up to date

// Every file below dir (relative to pkg), sorted; build outputs and the generated glue (a function of the
// spec and gen_glue.mjs, both hashed) left out.
function filesUnder(pkg, dir) {
  const abs = join(pkg, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true })
    .flatMap((e) => {
      const f = join(dir, e.name);
      if (e.isDirectory()) return ['build', 'gen', 'node_modules'].includes(e.name) ? [] : filesUnder(pkg, f);
      return e.isFile() ? [f] : [];
    })
    .sort();
}

/** The hash of what a build of `kind` ('emu': the node-gyp build of emu + cpu; 'cuda') in package
 *  directory `pkg` reads: binding.gyp, kernels/, native/, the kernel spec, and the toolchain (node's
 *  version and platform, the compiler's version line, the environment that changes the compile). A change
 *  to any of them means rebuild; a change to the rest of src/ does not. */
export function inputsHash(pkg, kind, tools = toolchain(kind)) {
  const h = createHash('sha256');
  h.update(`${kind}\0${tools}\0`);
  for (const f of ['binding.gyp', 'src/spec/kernels.mjs', ...filesUnder(pkg, 'kernels'), ...filesUnder(pkg, 'native')]) {
    if (!existsSync(join(pkg, f))) continue;
    h.update(`${f}\0`);
    h.update(readFileSync(join(pkg, f)));
    h.update('\0');
  }
  return h.digest('hex');
}

// The toolchain part of a build's inputs: node (its version also fixes the headers, wherever nodedir
// finds them), the compiler's version line (g++ or $CXX for emu, nvcc for cuda), the environment that
// changes the compile. Nothing npm alone sets, so a build by hand and one by npm install agree.
function toolchain(kind) {
  const compiler = kind === 'cuda' ? 'nvcc' : process.env.CXX || 'g++';
  const out = (spawnSync(compiler, ['--version'], { encoding: 'utf8' }).stdout || '').split('\n').filter((l) => l.trim() !== '');
  const version = (kind === 'cuda' ? out.at(-1) : out[0]) ?? 'not found';
  const env = ['CC', 'CXX', 'CFLAGS', 'CXXFLAGS', 'LDFLAGS', 'LSTM_CUDA_ARCHS'].map((k) => `${k}=${process.env[k] ?? ''}`);
  return [`node ${process.version} ${process.platform}-${process.arch}`, `${compiler}: ${version}`, ...env].join('\n');
}

export const stampFile = (artifact) => `${artifact}.inputs`;

/** Whether every addon of a build (artifacts: { name: path relative to pkg }) exists, loads
 *  (loadError(path) === null) and carries the stamp `hash`. */
export function stampsMatch(pkg, artifacts, hash, loadError) {
  return Object.values(artifacts).every((file) => {
    const stamp = join(pkg, stampFile(file));
    return existsSync(join(pkg, file)) && existsSync(stamp) && readFileSync(stamp, 'utf8') === hash && loadError(file) === null;
  });
}

// true, after one line saying so, when run by `npm install` (not LSTM_CUDA_REBUILD=1) and the build's
// addons are up to date.
function upToDate(name, artifacts, hash) {
  if (process.env.npm_lifecycle_event !== 'install' || process.env.LSTM_CUDA_REBUILD === '1') return false;
  if (!stampsMatch(root, artifacts, hash, tryLoad)) return false;
  const files = Object.values(artifacts);
  const when = statSync(join(root, stampFile(files[0]))).mtime.toISOString().slice(0, 16).replace('T', ' ');
  const are = files.length > 1 ? 'addons are' : 'addon is';
  console.log(`lstm-cuda: the ${name} ${are} up to date (${files.map(rel).join(', ')}, built ${when} UTC from the same sources; LSTM_CUDA_REBUILD=1 npm install rebuilds)`);
  return true;
}

// Runs the commands one after another, appending their output to `log`; resolves to the first
// non-zero exit code (or 0).
async function runLogged(commands, log, env = process.env) {
  mkdirSync(dirname(join(root, log)), { recursive: true });
  const out = createWriteStream(join(root, log));
  try {
    for (const [cmd, argv] of commands) {
      out.write(`$ ${cmd} ${argv.join(' ')}\n`);
      const code = await new Promise((resolve) => {
        const child = spawn(cmd, argv, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
        child.stdout.pipe(out, { end: false });
        child.stderr.pipe(out, { end: false });
        child.on('error', (e) => { out.write(`${e.message}\n`); resolve(127); });
        child.on('close', (c) => resolve(c ?? 1));
      });
      if (code !== 0) return code;
    }
    return 0;
  } finally {
    await new Promise((r) => out.end(r));
  }
}

// Times one build and prints one line per addon it makes: where it is, or why it failed and where the
// log is. artifacts: { name: path } (node-gyp makes two addons in one build). hash: the build's inputs,
// stamped beside each addon that loads (see upToDate); every stamp goes before the build starts, so a
// failed or interrupted build is never taken for up to date.
async function timed(name, artifact, log, build, hash) {
  const artifacts = typeof artifact === 'string' ? { [name]: artifact } : artifact;
  for (const file of Object.values(artifacts)) rmSync(join(root, stampFile(file)), { force: true });
  const t0 = process.hrtime.bigint();
  const code = await build();
  const s = (Number(process.hrtime.bigint() - t0) / 1e9).toFixed(1);
  let ok = true;
  for (const [what, file] of Object.entries(artifacts)) {
    if (code === 0 && existsSync(join(root, file))) {
      const loadError = tryLoad(file);
      if (loadError === null) {
        console.log(`lstm-cuda: built the ${what} addon in ${s} s (${rel(file)})`);
        if (hash !== undefined) writeFileSync(join(root, stampFile(file)), hash);
        continue;
      }
      console.log(`lstm-cuda: built the ${what} addon in ${s} s but it does not load: ${loadError}`);
    } else {
      console.log(`lstm-cuda: building the ${what} addon failed (exit ${code}) after ${s} s; see ${rel(log)} (the TypeScript reference still works; \`lstm-cuda info\` quotes the error)`);
    }
    ok = false;
  }
  return ok;
}

// null when the addon loads in a fresh node (catches undefined symbols, which the link allows), else
// the first line of the error. ASan builds need libasan preloaded, so they are not checked here.
function tryLoad(artifact) {
  if (artifact === ASAN_ADDON) return null;
  const r = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(join(root, artifact))})`], { encoding: 'utf8' });
  if (r.status === 0) return null;
  const line = (r.stderr || '').split('\n').find((l) => /Error|error:/.test(l));
  return (line ?? `exit ${r.status}`).trim();
}

// Node's headers for node-gyp without a download: npm's nodedir, else the running node's prefix.
function nodedir() {
  const fromNpm = process.env.npm_config_nodedir;
  if (fromNpm && existsSync(join(fromNpm, 'include', 'node', 'common.gypi'))) return fromNpm;
  const prefix = dirname(dirname(process.execPath));
  if (existsSync(join(prefix, 'include', 'node', 'common.gypi'))) return prefix;
  return fromNpm || undefined;
}

function buildEmu() {
  const artifacts = { emu: EMU_ADDON, cpu: CPU_ADDON };
  const hash = inputsHash(root, 'emu');
  if (upToDate('cpu and emu', artifacts, hash)) return Promise.resolve(true);
  const gyp = require.resolve('node-gyp/bin/node-gyp.js');
  const dir = nodedir();
  const common = dir ? [`--nodedir=${dir}`] : [];
  // configure + build, never `rebuild`: node-gyp's clean would delete all of build/ (the TS test build too).
  console.log(
    'lstm-cuda: building the cpu addon (the native CPU backend, the default device without a GPU) and the emu addon ' +
      '(the CUDA kernels on the emulator, for tests) with node-gyp and g++: about 40 s on 2 idle cores',
  );
  return timed('emu and cpu', artifacts, LOGS.emu, () =>
    runLogged(
      [
        [process.execPath, [gyp, 'configure', ...common]],
        [process.execPath, [gyp, 'build', '--jobs', jobs, ...common]],
      ],
      LOGS.emu,
    ),
    hash,
  );
}

function hasNvcc() {
  const r = spawnSync('nvcc', ['--version'], { stdio: 'ignore' });
  return r.status === 0;
}

function buildCuda() {
  if (process.env.LSTM_CUDA_SKIP_CUDA === '1') {
    console.log('lstm-cuda: LSTM_CUDA_SKIP_CUDA=1, skipping the cuda addon (ref and emu available)');
    return Promise.resolve(true);
  }
  if (!hasNvcc()) {
    console.log('lstm-cuda: nvcc not found, skipping the cuda addon (ref and emu available)');
    return Promise.resolve(true);
  }
  const hash = inputsHash(root, 'cuda');
  if (upToDate('cuda', { cuda: CUDA_ADDON }, hash)) return Promise.resolve(true);
  // a cache configured in another checkout (another path) cannot be reused
  const cache = join(root, 'build/cuda/CMakeCache.txt');
  if (existsSync(cache) && !readFileSync(cache, 'utf8').includes(`CMAKE_HOME_DIRECTORY:INTERNAL=${join(root, 'native')}\n`)) {
    rmSync(cache);
    rmSync(join(root, 'build/cuda/CMakeFiles'), { recursive: true, force: true });
  }
  console.log(
    'lstm-cuda: building the cuda addon (the kernels for NVIDIA GPUs; compiled even without a GPU so they are checked) ' +
      'with nvcc: about 1 min on 2 idle cores; LSTM_CUDA_SKIP_CUDA=1 npm install skips it',
  );
  const cmakeJs = require.resolve('cmake-js/bin/cmake-js');
  const env = { ...process.env, CMAKE_BUILD_PARALLEL_LEVEL: jobs };
  // LSTM_CUDA_ARCHS (e.g. "90a-real") replaces the default 80-real;90-real;90a-real;90-virtual
  const archs = process.env.LSTM_CUDA_ARCHS ? [`--CDCMAKE_CUDA_ARCHITECTURES=${process.env.LSTM_CUDA_ARCHS}`] : [];
  return timed('cuda', CUDA_ADDON, LOGS.cuda, () =>
    runLogged([[process.execPath, [cmakeJs, 'build', '-d', 'native', '-O', 'build/cuda', '--parallel', jobs, ...archs]]], LOGS.cuda, env),
    hash,
  );
}

// The emu addon with -fsanitize=address, compiled by g++ directly (one TU per source, `jobs` at a time).
// Run tests on it with: LD_PRELOAD=$(g++ -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0
//   LSTM_CUDA_EMU_ADDON=build/asan/lstm_cuda_emu.node node node_modules/tape/bin/tape build/test/...
async function buildAsan() {
  const dir = nodedir();
  const addonApi = require('node-addon-api').include_dir;
  const objDir = 'build/asan/obj';
  mkdirSync(join(root, objDir), { recursive: true });
  const sources = [
    ...readdirSync(join(root, 'native')).filter((f) => f.endsWith('.cc')).map((f) => `native/${f}`),
    ...emuSources(),
    ...readdirSync(join(root, 'kernels/emu')).filter((f) => /\.(cc|cpp|S)$/.test(f)).map((f) => `kernels/emu/${f}`),
  ];
  const flags = [
    '-std=c++17', '-O1', '-g', '-Wno-unknown-pragmas', '-fPIC', '-pthread', '-fexceptions', '-fsanitize=address', '-fno-omit-frame-pointer',
    '-DLSTM_CUDA_EMU', '-DNAPI_CPP_EXCEPTIONS', '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    '-DNODE_GYP_MODULE_NAME=lstm_cuda_emu', '-DBUILDING_NODE_EXTENSION',
    '-Ikernels', '-Inative', `-I${GEN_DIR}`, `-I${join(root, addonApi)}`, `-I${join(dir ?? '/usr', 'include', 'node')}`,
  ];
  return timed('emu (ASan)', ASAN_ADDON, LOGS.asan, async () => {
    const objects = sources.map((s) => `${objDir}/${s.replace(/[/.]/g, '_')}.o`);
    const compiles = sources.map((s, i) => ['g++', [...flags, '-c', s, '-o', objects[i]]]);
    // `jobs` compile queues side by side, each with its own log, then one link
    const n = Number(jobs);
    const codes = await Promise.all(
      Array.from({ length: n }, (_, q) => runLogged(compiles.filter((_, i) => i % n === q), `${LOGS.asan}.${q}`)),
    );
    const bad = codes.find((c) => c !== 0);
    if (bad !== undefined) {
      console.log(`lstm-cuda: ASan compile logs: ${Array.from({ length: n }, (_, q) => rel(`${LOGS.asan}.${q}`)).join(', ')}`);
      return bad;
    }
    return runLogged([['g++', ['-shared', '-fsanitize=address', '-pthread', '-o', ASAN_ADDON, ...objects]]], LOGS.asan);
  });
}

// Never lets `npm install` fail: an unexpected error (node-gyp or cmake-js missing, say) is one line too.
async function guarded(name, build) {
  try {
    return await build();
  } catch (e) {
    console.log(`lstm-cuda: building the ${name} addon failed: ${(e && e.message) || e} (the ref backend still works)`);
    return false;
  }
}

// Run as a script (npm's install, or by hand); imported (test/install.test.ts), it only exports.
if (process.argv[1] && existsSync(process.argv[1]) && realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // The kernel wrappers and launcher prototypes come from the kernel spec; every build below compiles them.
  await generateGlue();

  let ok = true;
  if (args.has('--asan')) {
    ok = await guarded('emu (ASan)', buildAsan);
  } else {
    if (!args.has('--cuda-only')) ok = (await guarded('emu', buildEmu)) && ok;
    if (!args.has('--emu-only')) ok = (await guarded('cuda', buildCuda)) && ok;
  }
  if (!ok && strict) process.exitCode = 1;
}
