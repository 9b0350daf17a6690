#!/bin/bash
# One device run: build the minimal configuration (no LAPACK, cJSON, HDF5 there) with CUDA for
# sm_90, run the GPU suites (march in fp64 and fp32, TWA: CUDA against CPU), then the
# batched-march bench (fp64 and fp32 rows). Expects the source
# in $G/src and a carried Criterion (headers, libraries) in $G/crit, $G the folder of this
# script; writes logs and results to $OUT.
set -u -o pipefail
G=$(cd "$(dirname "$0")" && pwd)
OUT=${OUT:-/tmp/tcgpu-out}
mkdir -p "$OUT"
B=/tmp/tcgpu-build
export PATH="$PATH:/usr/local/cuda/bin"
{
    date -u
    echo "cores: $(nproc)"
    nvidia-smi --query-gpu=name,memory.total,clocks.sm,clocks.max.sm,driver_version --format=csv
    nvcc --version | tail -2
    cmake --version | head -1
} 2>&1 | tee "$OUT/machine.txt"
# Criterion's own dependencies that the machine may lack (kept apart so that the machine's own
# copies win where it has them).
for f in "$G"/crit/fallback/*; do
    n=$(basename "$f")
    ldconfig -p | grep -q "$n " || { cp "$f" "$G/crit/lib/" && echo "carried $n"; }
done
conf() {
    cmake -S "$G/src" -B "$B" -DTCGPU_MINIMAL=ON -DCMAKE_CUDA_ARCHITECTURES=90 \
        -DCMAKE_PREFIX_PATH="$G/crit" -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$G/crit/lib" "$@"
}
t0=$(date +%s)
if ! { conf -DTCGPU_WERROR=ON && cmake --build "$B" -j"$(nproc)"; } >"$OUT/build.log" 2>&1; then
    echo "BUILD with warnings as errors FAILED; tail of the log:"
    tail -30 "$OUT/build.log"
    rm -rf "$B"
    { conf -DTCGPU_WERROR=OFF && cmake --build "$B" -j"$(nproc)"; } >"$OUT/build2.log" 2>&1 ||
        { tail -30 "$OUT/build2.log"; exit 1; }
fi
echo "build: $(($(date +%s) - t0)) s"
export LD_LIBRARY_PATH="$G/crit/lib"
t0=$(date +%s)
timeout "${TEST_TIMEOUT:-240}" "$B/tests/backend/gpu/test_gpu_march" --verbose --jobs 1 >"$OUT/gpu_tests.log" 2>&1
echo "gpu suite: rc $?, $(($(date +%s) - t0)) s"
grep -E "path|PASS|FAIL|SKIP|Synthesis|Assert|expected" "$OUT/gpu_tests.log" | cut -c1-200
t0=$(date +%s)
timeout "${TEST_TIMEOUT:-130}" "$B/tests/backend/gpu/test_gpu_twa" --verbose --jobs 1 >"$OUT/gpu_twa.log" 2>&1
echo "gpu TWA suite: rc $?, $(($(date +%s) - t0)) s"
grep -E "PASS|FAIL|SKIP|Synthesis|Assert|expected|CPU .* s, CUDA" "$OUT/gpu_twa.log" | cut -c1-200
# Barriers and bounds: racecheck and memcheck on the smallest case of the suite.
if [ -n "${SANITIZE:-}" ] && command -v compute-sanitizer >/dev/null; then
    for tool in racecheck memcheck; do
        t0=$(date +%s)
        timeout "${SANITIZE}" compute-sanitizer --tool $tool --target-processes all \
            "$B/tests/backend/gpu/test_gpu_march" --filter 'gpu/small_batch_for_the_sanitizers' --jobs 1 \
            >"$OUT/$tool.log" 2>&1
        echo "$tool: rc $?, $(($(date +%s) - t0)) s"
        grep -E "ERROR SUMMARY|RACECHECK SUMMARY|hazard|Synthesis" "$OUT/$tool.log" | head -5
    done
fi
t0=$(date +%s)
timeout "${BENCH_TIMEOUT:-200}" "$B/tcgpu_bench_gpu_march" "$OUT/gpu_march.csv" 256 2>&1 |
    tee "$OUT/bench.txt"
echo "bench: rc $?, $(($(date +%s) - t0)) s"
