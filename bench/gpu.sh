#!/usr/bin/env bash
# bench/gpu.sh — the ONE command for a GPU machine (issue 6): builds the cuda addon if it is missing or
# stale, runs the kernel suite on `cuda`, compute-sanitizer memcheck and racecheck over it, our benchmarks,
# PyTorch's (bench/torch_reference.py), the comparison table, and the whole-model check against
# torch.nn.LSTM; each step's output is teed into $OUT (8 files at most come back from the device machine):
#   summary.txt      device line, build log (when it built), per-step status and time, runner remarks
#   suite.log        the op tests (build/test/<op>.test.js), gemm_tf32 and kernel_spec on cuda against ref
#                    (exact fp32 outside the TF32 tests: LSTM_CUDA_TF32=0)
#   memcheck.log     compute-sanitizer --tool memcheck over the same suite
#   racecheck.log    compute-sanitizer --tool racecheck over the same suite
#   ours.jsonl       node build/bench/run.js --device cuda --json
#   torch.jsonl      python3 bench/torch_reference.py
#   compare.md       node build/bench/compare.js ours.jsonl torch.jsonl (printed last)
#   check_model.log  bench/export_reference.ts on cuda, then torch_reference.py --check-model
# A failing step is recorded and the next one still runs; the exit code is that of the first failure.
#
# Usage
#   here (no GPU):   bash bench/gpu.sh --pack
#       compiles the TypeScript, builds the cuda addon with the local nvcc if stale, stamps its sources'
#       hash, and packs Node, the addons, the compiled JS and the runtime node_modules into .gpu/ with
#       ../shared/tools/gpu-pack.sh. Then call the device tool with carry [".gpu"] and the command below.
#   GPU machine:     source .gpu/env.sh && bash bench/gpu.sh [STEP...]
#       STEP: build suite bench torch check-model compare memcheck racecheck (the default, in this order:
#       the slow, unpredictable sanitizers last) and profile (ncu over one training step and over
#       generation, into profile_train.txt and profile_generate.txt; not in the default: run
#       `bash bench/gpu.sh profile` in a call of its own, as each call brings back 8 files at most).
#       The script keeps inside one device call: each step gets at most what is left of GPU_SH_BUDGET
#       (default 570 s) and is SKIPPED when under 30 s are left; STEP_TIMEOUT_<step> caps a step further.
#       Expected: build 0 s (carried addon) or ~2–3 min (one architecture on 16 cores), suite ~1 min,
#       bench ~2–3 min, torch ~1–2 min, check-model < 30 s, sanitizers what remains. If they skip, run
#       `bash bench/gpu.sh memcheck racecheck` in a second call.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OUT=${OUT:-/tmp/lstm-cuda-gpu}
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
ADDON=build/cuda/Release/lstm_cuda.node
STAMP=build/cuda/sources.sha256
TAPE="node node_modules/tape/bin/tape"
FIRST_FAILURE=0

say() { echo "$*" | tee -a "$SUMMARY"; }

# The hash of everything the cuda addon is built from.
sources_hash() {
  ls kernels/*.cu kernels/*.cuh kernels/*.h native/*.cc native/*.h native/*.mjs native/CMakeLists.txt src/spec/kernels.mjs 2>/dev/null | LC_ALL=C sort |
    xargs sha256sum | sha256sum | cut -c1-64
}

# 0 when $ADDON exists and was built from the current sources (by the stamp, else by mtimes).
addon_fresh() {
  [ -f "$ADDON" ] || return 1
  if [ -f "$STAMP" ]; then
    [ "$(cat "$STAMP")" = "$(sources_hash)" ]
  else
    [ -z "$(find kernels native -maxdepth 1 \( -name '*.cu' -o -name '*.cuh' -o -name '*.h' -o -name '*.cc' -o -name CMakeLists.txt \) -newer "$ADDON")" ]
  fi
}

# Builds the cuda addon with cmake-js into build/cuda; $1 = CUDA architectures ("" = CMakeLists' default).
build_addon() {
  local archs=$1 jobs
  jobs=$(nproc 2>/dev/null || echo 2)
  # a cache configured in another checkout (another path) cannot be reused
  if [ -f build/cuda/CMakeCache.txt ] && ! grep -q "^CMAKE_HOME_DIRECTORY:INTERNAL=$ROOT/native\$" build/cuda/CMakeCache.txt; then
    rm -rf build/cuda/CMakeCache.txt build/cuda/CMakeFiles
  fi
  node native/gen_glue.mjs  # the kernel wrappers and launcher prototypes, from the kernel spec
  local extra=()
  [ -n "$archs" ] && extra=("--CDCMAKE_CUDA_ARCHITECTURES=$archs")
  CMAKE_BUILD_PARALLEL_LEVEL=$jobs node node_modules/cmake-js/bin/cmake-js build -d native -O build/cuda --parallel "$jobs" "${extra[@]}" \
    >build/native-cuda.log 2>&1
  local rc=$?
  if [ $rc -ne 0 ] || [ ! -f "$ADDON" ]; then
    echo "cuda addon build failed (exit $rc); the end of build/native-cuda.log:"
    tail -40 build/native-cuda.log
    return 1
  fi
  sources_hash >"$STAMP"
  echo "built $ADDON ($(du -h "$ADDON" | cut -f1)) for architectures ${archs:-of native/CMakeLists.txt}"
}

# ------------------------------------------------------------------------------------------ --pack (here)

if [ "${1:-}" = "--pack" ]; then
  set -e
  echo "compiling TypeScript (dist/, build/)"
  npx tsc -p tsconfig.json || echo "tsc reported errors (it still emitted; check they are not in the files the GPU run uses)"
  npx tsc -p test/tsconfig.json || echo "tsc (tests, bench) reported errors (it still emitted)"
  [ -f build/Release/lstm_cuda_emu.node ] || node native/build.mjs --emu-only
  if addon_fresh; then
    echo "$ADDON is up to date"
    [ -f "$STAMP" ] || sources_hash >"$STAMP"
  else
    echo "building the cuda addon with the local nvcc (several minutes on 2 cores)"
    build_addon ""
  fi
  # the runtime node_modules (tape, cmake-js and their dependencies; not typescript, @types, the corpus)
  bash "$ROOT/../shared/tools/gpu-pack.sh" \
    --exclude=node_modules/typescript --exclude=node_modules/@types --exclude=node_modules/nlp-corpus \
    --exclude='*.map' \
    node_modules dist build/src build/test build/bench build/Release/lstm_cuda_emu.node "$ADDON" "$STAMP"
  echo "now: device run with carry [\".gpu\"] and command: source .gpu/env.sh && bash bench/gpu.sh"
  exit 0
fi

# ------------------------------------------------------------------------------------------ GPU machine

STEPS=("$@")
[ ${#STEPS[@]} -eq 0 ] && STEPS=(build suite bench torch check-model compare memcheck racecheck)
for s in "${STEPS[@]}"; do
  case $s in build|suite|bench|torch|check-model|compare|memcheck|racecheck|profile) ;;
    *) echo "bench/gpu.sh: unknown step '$s' (steps: build suite bench torch check-model compare memcheck racecheck profile)" >&2; exit 2 ;;
  esac
done
wants() { local s; for s in "${STEPS[@]}"; do [ "$s" = "$1" ] && return 0; done; return 1; }
# The whole script stays inside one device call (10 minutes): a step gets at most what is left of
# GPU_SH_BUDGET seconds, and is skipped when under 30 s are left.
BUDGET=${GPU_SH_BUDGET:-570}

fail() { [ "$FIRST_FAILURE" -eq 0 ] && FIRST_FAILURE=${1:-1}; return 0; }

# step NAME LOG LIMIT COMMAND...: runs COMMAND under min(LIMIT, time left), tees its output into $OUT/LOG
# (or only the summary when LOG is -), and records status and seconds in the summary.
step() {
  local name=$1 log=$2 limit=$3
  shift 3
  local var="STEP_TIMEOUT_${name//-/_}" left=$((BUDGET - SECONDS - 10)) t0=$SECONDS rc
  limit=${!var:-$limit}
  if [ "$left" -lt 30 ]; then say "--- $name: SKIPPED (only $((BUDGET - SECONDS)) s of GPU_SH_BUDGET=$BUDGET left)"; fail 1; return 1; fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "=== $name (limit ${limit}s): $*" | tee -a "$SUMMARY"
  if [ "$log" = "-" ]; then
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$SUMMARY"
  else
    timeout --kill-after=10 "$limit" "$@" 2>&1 | tee "$OUT/$log"
  fi
  rc=${PIPESTATUS[0]}
  if [ "$rc" -eq 0 ]; then say "--- $name: ok ($((SECONDS - t0)) s)"
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then say "--- $name: TIMED OUT after ${limit} s"; fail "$rc"
  else say "--- $name: FAILED (exit $rc, $((SECONDS - t0)) s)"; fail "$rc"; fi
  return "$rc"
}

: >"$SUMMARY"
{
  echo "lstm-cuda bench/gpu.sh at $(date -u '+%Y-%m-%d %H:%M:%S UTC') in $ROOT, steps: ${STEPS[*]}"
  nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap,clocks.max.sm --format=csv,noheader 2>&1
  nvcc --version 2>&1 | tail -1
  python3 -c "import torch; print('torch', torch.__version__, 'cuDNN', torch.backends.cudnn.version(), 'CUDA', torch.version.cuda)" 2>&1 | tail -1
  echo "node $(node --version 2>&1)"
} | tee -a "$SUMMARY"

if wants build; then
  if addon_fresh; then
    say "=== build: $ADDON is up to date ($( [ -f "$STAMP" ] && echo 'source hash matches' || echo 'newer than its sources'))"
  else
    # only this GPU's architecture: a quarter of the compile time of the default four
    cc=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d '. ')
    t0=$SECONDS
    echo "=== build: cmake-js for sm_${cc:-?}" | tee -a "$SUMMARY"
    if build_addon "${cc:+${cc}-real}" 2>&1 | tee -a "$SUMMARY"; [ "${PIPESTATUS[0]}" -eq 0 ]; then say "--- build: ok ($((SECONDS - t0)) s)"
    else say "--- build: FAILED"; fail 1; fi
  fi
fi
node -e "import('./build/src/device.js').then(d => { const c = d.devices().find(x => x.name === 'cuda'); console.log('cuda backend:', c.available ? c.deviceName : 'UNAVAILABLE: ' + c.reason) })" 2>&1 | tee -a "$SUMMARY"

# every op's test file (its cases on the native backend against ref) and the checker's bad calls, on cuda
OP_TESTS="$(for op in elementwise gemm lstm softmax_xent embedding rows dropout adam sample gemm_tf32 kernel_spec; do printf 'build/test/%s.test.js ' "$op"; done)"

for s in "${STEPS[@]}"; do
  case $s in
    suite)
      LSTM_CUDA_TEST_NATIVE=cuda LSTM_CUDA_TF32=0 step suite suite.log 240 $TAPE $OP_TESTS
      if grep -q 'SKIP cuda' "$OUT/suite.log" 2>/dev/null; then say "--- suite: the cuda backend was SKIPPED: the suite did not run on the GPU"; fail 1; fi ;;
    bench)
      # stdout (JSON lines) into ours.jsonl, the runner's remarks (stderr) into the summary
      step bench ours.jsonl 300 bash -c 'node build/bench/run.js --device cuda --json 2>>"$0"' "$SUMMARY" ;;
    torch)
      step torch torch.jsonl 240 bash -c 'PYTHONUNBUFFERED=1 python3 bench/torch_reference.py 2>>"$0"' "$SUMMARY" ;;
    check-model)
      ref=$(mktemp -d /tmp/lstm-cuda-check-model.XXXXXX)
      step check-model check_model.log 120 bash -c \
        'node build/bench/export_reference.js "$0" --device cuda && python3 bench/torch_reference.py --check-model "$0" --device cuda' "$ref" ;;
    compare)
      if [ -s "$OUT/ours.jsonl" ] || [ -s "$OUT/torch.jsonl" ]; then
        touch "$OUT/ours.jsonl" "$OUT/torch.jsonl"
        node build/bench/compare.js "$OUT/ours.jsonl" "$OUT/torch.jsonl" >"$OUT/compare.md" 2>>"$SUMMARY" || { say "--- compare: FAILED"; fail 1; }
      else
        say "--- compare: nothing to compare (no ours.jsonl / torch.jsonl in $OUT)"
      fi ;;
    memcheck)
      LSTM_CUDA_TEST_NATIVE=cuda LSTM_CUDA_TF32=0 step memcheck memcheck.log 240 compute-sanitizer --tool memcheck --leak-check no --error-exitcode 3 $TAPE $OP_TESTS
      grep -h 'ERROR SUMMARY' "$OUT/memcheck.log" 2>/dev/null | tee -a "$SUMMARY" ;;
    racecheck)
      LSTM_CUDA_TEST_NATIVE=cuda LSTM_CUDA_TF32=0 step racecheck racecheck.log 400 compute-sanitizer --tool racecheck --error-exitcode 3 $TAPE $OP_TESTS
      grep -h 'RACECHECK SUMMARY\|ERROR SUMMARY' "$OUT/racecheck.log" 2>/dev/null | tee -a "$SUMMARY" ;;
    profile)
      # Nsight Compute's per-kernel summary (Speed Of Light: % of peak memory and compute throughput) of
      # one training step at H=512, B=64, T=128, and of 300 generation kernels after 1,000 skipped ones
      step profile-train profile_train.txt 240 ncu --section SpeedOfLight --print-summary per-kernel \
        node build/bench/train_step.bench.js --device cuda --V 256 --D 512 --H 512 --B 64 --T 128 --layers 2 --repeats 1 --warmup 1
      step profile-generate profile_generate.txt 240 ncu --section SpeedOfLight --print-summary per-kernel --launch-skip 1000 --launch-count 300 \
        node build/bench/run.js --device cuda --only generate --repeats 1 --warmup 0 --json ;;
  esac
done

echo
echo "=============================== summary ($SUMMARY, $SECONDS s)"
grep -E '^---|ERROR SUMMARY|RACECHECK SUMMARY|cuda backend:' "$SUMMARY" || true
[ -s "$OUT/compare.md" ] && { echo; cat "$OUT/compare.md"; }
exit "$FIRST_FAILURE"
