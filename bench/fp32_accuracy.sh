#!/bin/bash
# The README's "Single precision" table: each case at seven rates with --precision single and
# double at tol 1e-4, then one Markdown row per case (worst sweep against the exact engine).
# usage: bench/fp32_accuracy.sh [OUTDIR]   (default /tmp/tcgpu-fp32; about 3 min on 2 cores)
set -eu
B=${TCGPU:-$(cd "$(dirname "$0")/.." && pwd)/build/tcgpu}
O=${1:-/tmp/tcgpu-fp32}
mkdir -p "$O"
betas=0.05,0.3,1,3,10,30,100
run() {
    name=$1
    shift
    for p in single double; do
        OMP_NUM_THREADS=1 "$B" run "$@" --beta $betas --tol 1e-4 --precision $p \
            --out "$O/$name-$p" >"$O/$name-$p.log" 2>&1
    done
}
run lz --model lz
run tc1N100 --model tc --channels 1 --N 100
run tc2N10 --model tc --channels 2 --N 10 --eps 0.5
run tc2N20 --model tc --channels 2 --N 20 --eps 0.5
run tc2N10e01 --model tc --channels 2 --N 10 --eps 0.1
run tc3N8 --model tc --channels 3 --N 8 --eps 0.5
run heff50 --model heff --N 50
python3 - "$O" <<'PY'
import csv, sys
O = sys.argv[1]
cases = [('lz', 'lz'), ('tc1N100', 'tc K = 1, N = 100'), ('tc2N10', 'tc K = 2, N = 10, ε = 0.5'),
         ('tc2N20', 'tc K = 2, N = 20, ε = 0.5'), ('tc2N10e01', 'tc K = 2, N = 10, ε = 0.1'),
         ('tc3N8', 'tc K = 3, N = 8, ε = 0.5'), ('heff50', 'heff n = 50')]
print("| case | fp32: max TV | sweeps within 1e−4 | min est/TV | max norm drift | fp64: max TV | min est/TV |")
print("|---|---|---|---|---|---|---|")
for c, label in cases:
    o = []
    for p in ['single', 'double']:
        rows = list(csv.DictReader(open(f'{O}/{c}-{p}/summary.csv')))
        tv = [float(r['tv_exact']) for r in rows]
        er = min(float(r['err_estimate']) / t for r, t in zip(rows, tv))
        nd = max(float(r['norm_error']) for r in rows)
        o.append((max(tv), sum(t <= 1e-4 for t in tv), len(rows), er, nd))
    a, b = o
    print(f"| {label} | {a[0]:.1e} | {a[1]} of {a[2]} | {a[3]:.2f} | {a[4]:.0e} | {b[0]:.1e} | {b[3]:.2f} |")
PY
