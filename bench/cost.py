#!/usr/bin/env python3
"""Cost of one controlled sweep, this tree against a reference commit, in one run.

Runs every case of the sweep-cost matrix (issue 15) through both `tcgpu` binaries, one thread,
one sweep per process, alternating old and new per case so that the machine's load falls on
both alike; CPU seconds are the child's user + system time (getrusage), steps, TV against the
exact engine and the control's estimate come from each run's summary.csv. Writes a Markdown
table and a JSON record. Standard library only. Called by bench/cost, which builds both.
"""
import argparse
import csv
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time

# (name, tol, tcgpu run arguments); g = 1 throughout. Exact beta_c (PHYSICS.md): N = 100:
# 184.87, N = 1000: 1196.4.
def matrix():
    rows = []
    for eps in (0.5, 0.1):
        for b in (0.05, 0.3, 1.3, 11.4, 100):
            rows.append((f"tc K=2 N=20 eps={eps} beta={b}", 1e-6,
                         ["--model", "tc", "--channels", "2", "--N", "20", "--eps", str(eps),
                          "--beta", str(b)]))
    for b in (0.3, 3, 30):
        rows.append((f"tc K=2 N=40 eps=0.5 beta={b}", 1e-6,
                     ["--model", "tc", "--channels", "2", "--N", "40", "--eps", "0.5",
                      "--beta", str(b)]))
    for n, bc, tol in ((100, 184.87, 1e-6), (1000, 1196.4, 1e-4)):
        for f, lab in ((0.1, "0.1 beta_c"), (1, "beta_c"), (10, "10 beta_c")):
            rows.append((f"tc K=1 N={n} beta={lab}", tol,
                         ["--model", "tc", "--channels", "1", "--N", str(n),
                          "--beta", repr(round(f * bc, 6))]))
    for b in (1, 10):
        rows.append((f"tc K=3 N=10 levels=-1,0.3,1.1 beta={b}", 1e-6,
                     ["--model", "tc", "--channels", "3", "--N", "10", "--levels", "-1,0.3,1.1",
                      "--beta", str(b)]))
    for n in (1, 50):
        for b in (0.3, 3, 30):
            rows.append((f"heff n={n} eps=0.5 beta={b}", 1e-6,
                         ["--model", "heff", "--N", str(n), "--eps", "0.5", "--beta", str(b)]))
    return rows


QUICK = {"tc K=2 N=20 eps=0.5 beta=1.3", "tc K=2 N=20 eps=0.5 beta=11.4",
         "tc K=1 N=100 beta=beta_c", "heff n=50 eps=0.5 beta=3"}


_no_plot = {}


def no_plot(binary):
    """['--no-plot'] where the binary draws a plot after the run (gnuplot's CPU time is not the
    sweep's), else []."""
    if binary not in _no_plot:
        h = subprocess.run([binary, "run", "--help"], capture_output=True, text=True)
        _no_plot[binary] = ["--no-plot"] if "--no-plot" in h.stdout + h.stderr else []
    return _no_plot[binary]


def run_one(binary, args, tol, timeout):
    out = tempfile.mkdtemp(prefix="tcgpu-cost-")
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    cmd = [binary, "run", *args, "--tol", repr(tol), "--backend", "cpu", *no_plot(binary),
           "--out", out + "/r"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=timeout, text=True)
        status = p.returncode
        err = p.stderr.strip().splitlines()[-1:] if p.stderr.strip() else []
    except subprocess.TimeoutExpired:
        status, err = "timeout", [f"over {timeout} s"]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rec = {"cpu_s": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
           "wall_s": time.monotonic() - t0, "status": status, "stderr": err}
    try:
        with open(out + "/r/summary.csv") as f:
            row = next(csv.DictReader(f))
        for k in ("steps", "applications", "tv_exact", "err_estimate", "T0", "Tr", "dt"):
            rec[k] = float(row[k]) if row.get(k) not in (None, "") else None
    except (OSError, StopIteration):
        pass
    subprocess.run(["rm", "-rf", out])
    return rec


def fmt(v, f="{:.3g}"):
    return "—" if v is None else f.format(v)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", required=True)
    ap.add_argument("--new", required=True)
    ap.add_argument("--old-label", default="old")
    ap.add_argument("--new-label", default="new")
    ap.add_argument("--out", required=True, help="results/<date>-<host>-cost (adds .md, .json)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cases", default="", help="comma-separated substrings of case names")
    ap.add_argument("--timeout", type=float, default=3600)
    a = ap.parse_args()
    cases = matrix()
    if a.quick:
        cases = [c for c in cases if c[0] in QUICK]
    if a.cases:
        keys = a.cases.split(",")
        cases = [c for c in cases if any(k in c[0] for k in keys)]
    recs = []
    for name, tol, args in cases:
        r = {"case": name, "tol": tol, "args": args}
        for lab, binary in (("old", a.old), ("new", a.new)):
            r[lab] = run_one(binary, args, tol, a.timeout)
        recs.append(r)
        o, n = r["old"], r["new"]
        print(f"{name:44s} old {o['cpu_s']:8.2f} s  new {n['cpu_s']:8.2f} s  "
              f"ratio {o['cpu_s'] / max(n['cpu_s'], 1e-3):7.2f}  TV new {fmt(n.get('tv_exact'))}"
              f"  est {fmt(n.get('err_estimate'))}", file=sys.stderr, flush=True)
    ratios = [r["old"]["cpu_s"] / max(r["new"]["cpu_s"], 1e-3) for r in recs]
    geo = math.exp(sum(map(math.log, ratios)) / len(ratios)) if ratios else float("nan")
    def ok(rec, tol):
        tv, est = rec.get("tv_exact"), rec.get("err_estimate")
        return rec["status"] == 0 and tv is not None and tv <= tol and est >= tv / 2
    host = platform.node()
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [f"# Sweep cost: {a.new_label} against {a.old_label}", "",
             f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, host `{host}` ({cpu}, "
             f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end). One "
             "thread, one sweep per process (`--backend cpu`, OMP_NUM_THREADS=1), old and new "
             "alternating per case; CPU s = user + system of the process. g = 1.", "",
             "| case | tol | CPU s old | CPU s new | old/new | steps old | steps new | "
             "TV old | TV new | est old | est new | new ok |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r, q in zip(recs, ratios):
        o, n = r["old"], r["new"]
        lines.append(
            f"| {r['case']} | {r['tol']:g} | {o['cpu_s']:.3g} | {n['cpu_s']:.3g} | {q:.2f} | "
            f"{fmt(o.get('steps'), '{:.3g}')} | {fmt(n.get('steps'), '{:.3g}')} | "
            f"{fmt(o.get('tv_exact'), '{:.2g}')} | {fmt(n.get('tv_exact'), '{:.2g}')} | "
            f"{fmt(o.get('err_estimate'), '{:.2g}')} | {fmt(n.get('err_estimate'), '{:.2g}')} | "
            f"{'yes' if ok(n, r['tol']) else 'NO ' + str(n['status'])} |")
    slower = [r["case"] for r, q in zip(recs, ratios) if q < 1]
    bad = [r["case"] for r in recs if not ok(r["new"], r["tol"])]
    lines += ["", f"- Geometric mean of old/new CPU s over {len(recs)} cases: **{geo:.2f}**.",
              f"- Cases where new is slower: {', '.join(slower) if slower else 'none'}.",
              f"- Cases where new misses TV ≤ tol or estimate ≥ TV/2: "
              f"{', '.join(bad) if bad else 'none'}.",
              f"- Total CPU s: old {sum(r['old']['cpu_s'] for r in recs):.1f}, "
              f"new {sum(r['new']['cpu_s'] for r in recs):.1f}."]
    with open(a.out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(a.out + ".json", "w") as f:
        json.dump({"old": a.old_label, "new": a.new_label, "host": host, "cpu": cpu,
                   "geomean_ratio": geo, "cases": recs}, f, indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
