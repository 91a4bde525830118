#!/usr/bin/env bash
# The CUDA emulator under AddressSanitizer: builds the emulator fixtures (test/fixtures/emu/) with
# -fsanitize=address and checks that ASan reports the out-of-bounds fixture (a heap-buffer-overflow
# WRITE inside the kernel) and reports nothing for the correct kernels (which also shows the fiber stack
# switches are annotated: without that, ASan false-positives on them), including the divergent-barrier
# fixture, whose faulted fibers are abandoned mid-stack. Ends with "N passed, N failed"; exit 1 on failure.
set -uo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d "${TMPDIR:-/tmp}/lstm-cuda-asan.XXXXXX")
trap 'rm -rf "$out"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $1"; [ -n "${2:-}" ] && sed 's/^/    /' "$2" | head -40; }

flags=(-std=c++17 -O1 -g -fsanitize=address -fno-omit-frame-pointer -Wall -Wextra -Wno-unknown-pragmas
       -x c++ -DLSTM_CUDA_EMU -Ikernels -pthread)
names=(correct_reduction out_of_bounds_write divergent_syncthreads features)
# two compilers at a time
pids=()
for name in "${names[@]}"; do
  g++ "${flags[@]}" "test/fixtures/emu/$name.cu" -o "$out/$name" > "$out/$name.build.log" 2>&1 &
  pids+=($!)
  if [ "${#pids[@]}" -ge 2 ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
wait
for name in "${names[@]}"; do
  if [ -x "$out/$name" ]; then ok "builds with -fsanitize=address: $name"; else not_ok "build $name" "$out/$name.build.log"; fi
done

# Runs a fixture; stdout to $out/$1.out, stderr to $out/$1.err; returns its exit status.
run_fixture() {
  local name=$1; shift
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 LSTM_CUDA_EMU_THREADS=2 "$@" "$out/$name" > "$out/$name.out" 2> "$out/$name.err"
}

if [ -x "$out/out_of_bounds_write" ]; then
  run_fixture out_of_bounds_write; rc=$?
  if [ "$rc" -ne 0 ] && grep -q "ERROR: AddressSanitizer: heap-buffer-overflow" "$out/out_of_bounds_write.err" &&
     grep -q "WRITE of size 4" "$out/out_of_bounds_write.err" && grep -q "scale_kernel" "$out/out_of_bounds_write.err"; then
    ok "ASan reports the out-of-bounds write in scale_kernel (exit $rc)"
  else
    not_ok "ASan did not report out_of_bounds_write as expected (exit $rc)" "$out/out_of_bounds_write.err"
  fi
fi

for name in correct_reduction divergent_syncthreads; do
  [ -x "$out/$name" ] || continue
  run_fixture "$name"; rc=$?
  if [ "$rc" -eq 0 ] && ! grep -q "AddressSanitizer" "$out/$name.err"; then
    ok "no ASan report for $name"
  else
    not_ok "$name under ASan (exit $rc)" "$out/$name.err"
  fi
done
if [ -x "$out/correct_reduction" ]; then
  got=$(grep '"case":"correct_reduction"' "$out/correct_reduction.out" | sed 's/.*"values"://')
  want=$(grep '"case":"expected"' "$out/correct_reduction.out" | sed 's/.*"values"://')
  if [ -n "$got" ] && [ "$got" = "$want" ]; then ok "correct_reduction sums are right under ASan"; else not_ok "correct_reduction sums: $got vs $want"; fi
fi
if [ -x "$out/divergent_syncthreads" ]; then
  if grep -q '"case":"half","error":"cudaErrorLaunchFailure"' "$out/divergent_syncthreads.out"; then
    ok "divergent barrier still reported under ASan"
  else
    not_ok "divergent barrier under ASan" "$out/divergent_syncthreads.out"
  fi
fi
if [ -x "$out/features" ]; then
  for schedule in forward shuffle:9; do
    run_fixture features env LSTM_CUDA_EMU_SCHEDULE=$schedule; rc=$?
    if [ "$rc" -eq 0 ] && ! grep -q "AddressSanitizer" "$out/features.err"; then
      ok "no ASan report for features (warp, dynamic, atomics, events, config) under $schedule"
    else
      not_ok "features under ASan, $schedule (exit $rc)" "$out/features.err"
    fi
  done
fi

# The whole emu addon (native glue + every kernels/*.cu) under ASan, running the cross-backend kernel suite and
# the native error/memory tests. node itself is not instrumented, so libasan is preloaded; leaks are not
# checked (V8's own allocations would drown them) and a refused 1 PiB allocation must return null.
if [ "${LSTM_CUDA_ASAN_FIXTURES_ONLY:-0}" != 1 ]; then
  if node native/build.mjs --asan --strict > "$out/addon.build.log" 2>&1; then
    ok "the emu addon builds with -fsanitize=address"
    [ -f build/test/gemm.test.js ] || npx tsc -p test/tsconfig.json > "$out/tsc.log" 2>&1
    ops=$(for op in elementwise gemm lstm softmax_xent embedding rows dropout adam sample kernel_spec; do printf 'build/test/%s.test.js ' "$op"; done)
    LD_PRELOAD=$(g++ -print-file-name=libasan.so) ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 \
      LSTM_CUDA_EMU_ADDON=build/asan/lstm_cuda_emu.node LSTM_CUDA_TEST_NATIVE=emu \
      node node_modules/tape/bin/tape $ops build/test/native_errors.test.js > "$out/addon.log" 2>&1
    rc=$?
    if [ "$rc" -eq 0 ] && ! grep -q "AddressSanitizer" "$out/addon.log"; then
      ok "kernel suite + native tests on the ASan emu addon: $(grep -E '^# pass' "$out/addon.log" | tr -s ' ')"
    else
      not_ok "kernel suite on the ASan emu addon (exit $rc)" "$out/addon.log"
    fi
  else
    not_ok "build the ASan emu addon" "$out/addon.build.log"
  fi
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
