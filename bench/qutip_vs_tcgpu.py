#!/usr/bin/env python3
"""tcgpu (CPU backend, one core) against QuTiP 5 sesolve at equal accuracy, both in one run.

Two-channel Tavis-Cummings model (shared/PHYSICS.md, eq 59): K = 2, g = 1, eps = 0.5, i.e. pair
energies e = (-2 eps, +2 eps) = (-1, +1); sweep rates log-spaced over beta in [0.05, 100].

  1. tcgpu runs the measured subset of rates, one process per rate (OMP_NUM_THREADS=1), so each
     sweep has its own wall time (summary.csv `seconds`) and CPU time (rusage of the process).
  2. tcgpu runs the remaining rates of the full set in the background (one core) while
  3. QuTiP 5 sesolve runs the subset on the other core: H(t) = B t + A in the |n1,n2> basis of
     dist.h5 /basis, the window (-T0, Tr) tcgpu chooses for that sweep with its dense readouts
     only (TCGPU_FAR_FIELD=0, an untimed run: since the far field, tcgpu's own Tr is where its
     in-sector continuation starts, and a plain readout there is far off), the SAME start and
     readout (superadiabatically dressed (to --order, default 3) instantaneous eigenstates, labelled as in
     src/numerics/adiabatic.c). Tolerances atol = rtol = tol are scanned from loose to tight; the first
     (loosest) tol whose TV vs the exact engine is <= max(1e-6, tcgpu's TV) is the one reported.
     Each QuTiP solve runs in a child process with a wall-time cap (reported as capped).
  4. Optionally the same for N = 40 on a few rates.

Writes <out>/<YYYY-MM-DD>-<hostname>-qutip.json and .md.
Usage: /work/venv-bench/bin/python bench/qutip_vs_tcgpu.py [--N 20] [--sweeps 64] [--subset 8]
"""
import argparse
import datetime
import json
import math
import multiprocessing as mp
import os
import platform
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "QUTIP_NUM_PROCESSES"):
    os.environ[_v] = "1"

import warnings  # noqa: E402

warnings.filterwarnings("ignore", message="matplotlib not found")
import h5py  # noqa: E402
import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.sparse as sp  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
G, EPS, K = 1.0, 0.5, 2
LEVELS = (-2 * EPS, 2 * EPS)  # e_k = 2(2k - K - 1) eps


# ----------------------------------------------------------------------------- model
def build_model(basis, N, beta, g=G, levels=LEVELS):
    """b (slopes), a (constants), V (sparse couplings) in the order of dist.h5 /basis; any K
    (the columns of basis), pair energies levels."""
    basis = np.asarray(basis, dtype=np.int64)
    dim = basis.shape[0]
    index = {tuple(r): i for i, r in enumerate(basis)}
    n = basis.sum(axis=1)
    b = beta * (N - n).astype(float)
    a = basis @ np.array(levels, dtype=float)
    rows, cols, vals = [], [], []
    for i, r in enumerate(basis):
        for k in range(basis.shape[1]):
            if r[k] > 0:
                s = r.copy()
                s[k] -= 1
                j = index[tuple(s)]
                v = g * r[k] * math.sqrt(N - n[i] + 1)  # n counted in the ket with n_k
                rows += [i, j]
                cols += [j, i]
                vals += [v, v]
    V = sp.csr_matrix((vals, (rows, cols)), shape=(dim, dim))
    return b, a, V


def frame(b, a, V, t):
    """Eigenpairs of H(t) = diag(b t + a) + V and dH/dt = diag(b) in the eigenbasis."""
    H = V.toarray() + np.diag(b * t + a)
    E, U = np.linalg.eigh(H)
    hdot = U.T @ (b[:, None] * U)
    return E, U, hdot


def dressing(E, hdot):
    """W[k, m] = <m|Hdot|k> / (E_m - E_k)^2, zero on the diagonal."""
    gap = E[None, :] - E[:, None]
    with np.errstate(divide="ignore"):
        W = np.where(gap != 0, hdot / np.where(gap != 0, gap, 1.0) ** 2, 0.0)
    np.fill_diagonal(W, 0.0)
    return W


ORDER = [3]  # dressing order of start and readout (tcgpu >= 61219d6: 3; >= 2cb5594: 2; before: 1)


def second_order(E, h):
    """src/numerics/adiabatic.c second_order: r[m, k], the real second-order admixture of state m in the
    dressed state k: [h'_mk/D^2 - 2 h_mk (h_mm - h_kk)/D^3 - sum_j h_mj h_jk/((E_m - E_j)
    (E_j - E_k)^2)]/D, D = E_m - E_k, h' = P h - h P, P = h o G, G_ij = 1/(E_i - E_j)."""
    gap = E[:, None] - E[None, :]
    ok = gap != 0
    np.fill_diagonal(ok, False)
    G = np.where(ok, 1.0 / np.where(ok, gap, 1.0), 0.0)
    P, R = h * G, h * G * G
    dh = np.diag(h)[:, None] - np.diag(h)[None, :]
    r = (P @ h - h @ P) * G ** 3 - 2 * h * dh * G ** 4 - (P @ R) * G
    r[~ok] = 0.0
    return r


def third_order(b, a, V, t, E, U, h, r):
    """src/numerics/adiabatic.c third_order: s3[m, k] (the admixture is i s3) from
    D s3 = r' - (P r)_mk + h_mk sigma_k / D^2, sigma_k = sum_j h_kj^2 / (E_j - E_k)^3, r' by a
    central difference of the second orders at t -+ dt (eigenvector signs aligned with t's); a
    column whose third order exceeds its second keeps the second (zeros). None where an
    eigenvector turns within dt (the second order then stands)."""
    dt = 1e-5 * max(abs(t), 1e-3)
    rp = []
    for side in (-1, 1):
        E2, U2, h2 = frame(b, a, V, t + side * dt)
        o = (U2 * U).sum(axis=0)
        if (np.abs(o) < 0.9).any():
            return None
        sign = np.where(o < 0, -1.0, 1.0)
        rp.append(second_order(E2, h2) * np.outer(sign, sign))
    gap = E[:, None] - E[None, :]
    ok = gap != 0
    np.fill_diagonal(ok, False)
    G = np.where(ok, 1.0 / np.where(ok, gap, 1.0), 0.0)
    P = h * G
    sigma = (h * h * G ** 3).sum(axis=0)
    rdot = (rp[1] - rp[0]) / (2 * dt)
    s3 = (rdot - P @ r + h * sigma[None, :] * G ** 2) * G
    s3[~ok] = 0.0
    s3[:, (s3 ** 2).sum(axis=0) > (r ** 2).sum(axis=0)] = 0.0
    return s3


def dressing_terms(b, a, V, t, E, U, hdot):
    """A[k, m], the imaginary admixture of m in dressed k (first order -W, plus the third), and
    r[m, k], the real second order, as adiabatic_dense_start / dressed_overlap form them."""
    A = -dressing(E, hdot)
    r = np.zeros_like(A)
    if ORDER[0] > 1:
        r = second_order(E, hdot)
        if ORDER[0] > 2:
            s3 = third_order(b, a, V, t, E, U, hdot, r)
            if s3 is not None:
                A += s3.T
    return A, r


def start_rank(b, a, s):
    """src/numerics/adiabatic.c start_rank: descending slope, then ascending constant, then index."""
    r = 0
    for i in range(len(b)):
        if b[i] > b[s] or (b[i] == b[s] and (a[i] < a[s] or (a[i] == a[s] and i < s))):
            r += 1
    return r


def dressed_start(b, a, V, t0, s):
    """|k~> = |k> - i sum_{m != k} <m|Hdot|k>/(E_m - E_k)^2 |m>, normalized (adiabatic_start)."""
    E, U, hdot = frame(b, a, V, t0)
    k = start_rank(b, a, s)
    A, r = dressing_terms(b, a, V, t0, E, U, hdot)
    psi = U[:, k].astype(complex) + 1j * (U @ A[k, :]) + U @ r[:, k]
    return psi / np.linalg.norm(psi)


def last_crossing(b, a):
    last = -np.inf
    for i in range(len(b)):
        m = b[i] > b
        if m.any():
            last = max(last, np.max((a[m] - a[i]) / (b[i] - b[m])))
    return last


TCGPU_TOL = [1e-6]  # the tcgpu sweeps' --tol (by_rank below depends on it)


def by_rank(beta, K):
    """src/control/control_scales.c: where the nonadiabatic weight K x/(1 - x), x = exp(-2 pi g^2
    / beta), stays below tol/10, tcgpu labels eigenvectors by energy rank at any readout time."""
    x = math.exp(-2 * math.pi * G * G / beta)
    return K * x / (1 - x) < TCGPU_TOL[0] / 10


def labels(b, a, E, U, t, rank=False):
    """src/numerics/adiabatic.c assign_labels: label[j] = diabatic state of eigenvector j (K = 2: no
    degenerate groups, so the tie resolution by overlap is never needed)."""
    n = len(b)
    label = np.empty(n, dtype=np.int64)
    if rank or t > last_crossing(b, a):
        dia = sorted(range(n), key=lambda i: (b[i], a[i], i))
        vec = sorted(range(n), key=lambda j: (E[j], j))
        for r in range(n):
            label[vec[r]] = dia[r]
        return label
    slopes = sorted(set(b.tolist()))
    group = np.array([slopes.index(x) for x in b])
    ng = len(slopes)
    cap = np.bincount(group, minlength=ng)
    weight = np.zeros((n, ng))
    for g_ in range(ng):
        weight[:, g_] = (U[group == g_, :] ** 2).sum(axis=0)
    order = sorted(range(n), key=lambda j: (-weight[j].max(), j))
    vgroup = np.empty(n, dtype=np.int64)
    for j in order:
        best = -1
        for g_ in range(ng):
            if cap[g_] > 0 and (best < 0 or weight[j, g_] > weight[j, best]):
                best = g_
        cap[best] -= 1
        vgroup[j] = best
    for g_ in range(ng):
        dia = sorted([i for i in range(n) if group[i] == g_], key=lambda i: (a[i], i))
        vec = sorted([j for j in range(n) if vgroup[j] == g_], key=lambda j: (E[j], j))
        for r in range(len(dia)):
            label[vec[r]] = dia[r]
    return label


def dressed_readout(b, a, V, t, psi, rank=False):
    """prob[label[k]] = |<k~|psi>|^2 with <k~|psi> = c_k + i sum_m W[k,m] c_m, normalized to first
    order (adiabatic_readout / dressed_overlap)."""
    E, U, hdot = frame(b, a, V, t)
    A, r = dressing_terms(b, a, V, t, E, U, hdot)
    c = U.T @ psi
    norm = 1.0 + (A ** 2).sum(axis=1) + (r ** 2).sum(axis=0)
    d = c - 1j * (A @ c) + r.T @ c
    d /= np.sqrt(norm)
    prob = np.empty(len(b))
    prob[labels(b, a, E, U, t, rank)] = np.abs(d) ** 2
    return prob


# ----------------------------------------------------------------------------- QuTiP
def qutip_sweep(basis, N, beta, T0, Tr, tol, nsteps, levels=LEVELS):
    """One QuTiP sweep; returns (prob at Tr, prob at Tr/1.3, wall s, cpu s, solve-only s, norm).
    The readout at Tr/1.3 (same solve, one more output time) allows tcgpu's window
    extrapolation P(Tr) + (P(Tr) - P(Tr/1.3))/0.69 (docs/numerics.md)."""
    import qutip

    w0, c0 = time.perf_counter(), time.process_time()
    b, a, V = build_model(basis, N, beta, levels=levels)
    s = int(np.where((np.asarray(basis) == 0).all(axis=1))[0][0])
    psi0 = dressed_start(b, a, V, -T0, s)
    A = qutip.Qobj(V + sp.diags(a), dtype="csr")
    B = qutip.Qobj(sp.diags(b).tocsr(), dtype="csr")
    H = qutip.QobjEvo([A, [B, lambda t: t]])
    ws = time.perf_counter()
    res = qutip.sesolve(H, qutip.Qobj(psi0), [-T0, Tr / 1.3, Tr],
                        options={"atol": tol, "rtol": tol, "nsteps": nsteps,
                                 "store_states": True, "progress_bar": False})
    solve = time.perf_counter() - ws
    psi_m = res.states[1].full().ravel()
    psi = res.states[2].full().ravel()
    rank = by_rank(beta, np.asarray(basis).shape[1])
    prob = dressed_readout(b, a, V, Tr, psi, rank)
    prob_m = dressed_readout(b, a, V, Tr / 1.3, psi_m, rank)
    return prob, prob_m, time.perf_counter() - w0, time.process_time() - c0, solve, float(
        np.vdot(psi, psi).real)


def _child(q, *args):
    try:
        q.put(("ok",) + tuple(qutip_sweep(*args)))
    except Exception as e:  # reported, not hidden
        q.put(("error", repr(e)))


def qutip_capped(cap, *args):
    """Run qutip_sweep in a child process; kill it after cap seconds."""
    ctx = mp.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q,) + args)
    t0 = time.perf_counter()
    p.start()
    try:
        out = q.get(timeout=cap)
    except Exception:
        out = None
    if out is None:
        p.kill()
        p.join()
        return {"capped": True, "wall": time.perf_counter() - t0}
    p.join()
    if out[0] != "ok":
        return {"capped": False, "error": out[1], "wall": time.perf_counter() - t0}
    prob, prob_m, wall, cpu, solve, norm = out[1:]
    return {"capped": False, "prob": prob, "prob_m": prob_m, "wall": wall, "cpu": cpu,
            "solve": solve, "norm": norm}


# ----------------------------------------------------------------------------- tcgpu
def run_tcgpu(exe, N, betas, out, tol, far=True):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if not far:
        env["TCGPU_FAR_FIELD"] = "0"
    cmd = [exe, "run", "--model", "tc", "--N", str(N), "--channels", "2", "--eps", str(EPS),
           "--beta", ",".join(repr(float(x)) for x in betas), "--tol", repr(tol), "--out", out]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE), cmd


def wait_rusage(p):
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    return ru.ru_utime + ru.ru_stime


def read_tcgpu(out):
    import csv
    with open(os.path.join(out, "summary.csv")) as f:
        rows = list(csv.DictReader(f))
    with h5py.File(os.path.join(out, "dist.h5"), "r") as h:
        basis, prob, exact = h["basis"][()], h["prob"][()], h["exact"][()]
    return rows, basis, prob, exact


def tv(p, q):
    return 0.5 * float(np.abs(np.asarray(p) - np.asarray(q)).sum())


# ----------------------------------------------------------------------------- machine
class LoadSampler(threading.Thread):
    def __init__(self, every=15):
        super().__init__(daemon=True)
        self.every, self.samples, self.stop = every, [], threading.Event()

    def run(self):
        while not self.stop.is_set():
            with open("/proc/loadavg") as f:
                la = f.read().split()[:3]
            self.samples.append((datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S"),
                                 *map(float, la)))
            self.stop.wait(self.every)


def machine():
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import qutip
    commit = subprocess.run(["git", "-C", REPO, "rev-parse", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "src", "include",
                            "kernels", "CMakeLists.txt"], capture_output=True, text=True).stdout
    return {"hostname": socket.gethostname(), "cpu": cpu, "cores": os.cpu_count(),
            "kernel": platform.release(), "python": platform.python_version(),
            "qutip": qutip.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "tcgpu_commit": commit, "tcgpu_src_dirty": bool(dirty.strip()),
            "uptime_start": subprocess.run(["uptime"], capture_output=True,
                                           text=True).stdout.strip()}


# ----------------------------------------------------------------------------- bench
def bench_qutip(N, sub_betas, rows, basis, exact, tcgpu_tv, args, log):
    """Tolerance scan per beta on a half-decade grid of atol = rtol: start half a decade looser
    than the previous rate's choice, tighten by a decade until TV <= target, then try the
    half-decade between (so the choice is the loosest passing grid point, assuming TV falls
    monotonically with the tolerance). A capped or failed solve ends the scan of that rate."""
    recs = []
    tols = [10.0 ** -e for e in np.arange(args.tol_loosest, args.tol_tightest + 1e-9, 0.5)]
    start_i = 0
    for j, beta in enumerate(sub_betas):
        r = rows[j]
        T0, Tr = -float(r["T0"]), float(r["Tr"])
        target = max(args.tol, tcgpu_tv[j])
        rec = {"beta": beta, "T0": T0, "Tr": Tr, "target_tv": target, "scan": [],
               "chosen": None, "capped": False}
        recs.append(rec)
        tried, i, step, chosen = {}, max(0, start_i), 2, None

        def attempt(i):
            if time.time() > args.qutip_deadline:
                rec["skipped"] = "time budget"
                log(f"  N={N} beta={beta:.4g}: QuTiP scan stopped (time budget --budget-min)")
                return None
            res = qutip_capped(args.cap, basis, N, beta, T0, Tr, tols[i], args.nsteps)
            entry = {"tol": tols[i], "capped": res["capped"], "wall": res["wall"]}
            if "error" in res:
                entry["error"] = res["error"]
            if "prob" in res:
                tv_plain = tv(res["prob"], exact[j])
                tv_extr = tv(res["prob"] + (res["prob"] - res["prob_m"]) / 0.69, exact[j])
                entry.update(cpu=res["cpu"], solve=res["solve"], norm_error=abs(res["norm"] - 1),
                             tv_plain=tv_plain, tv_extrapolated=tv_extr,
                             tv_exact=min(tv_plain, tv_extr),
                             readout="plain" if tv_plain <= tv_extr else "extrapolated")
            rec["scan"].append(entry)
            tried[i] = entry
            log(f"  N={N} beta={beta:.4g} window=({-T0:.4g},{Tr:.4g}) qutip tol={tols[i]:.1e}: "
                + ("CAPPED at %.0f s" % res["wall"] if res["capped"] else
                   ("error " + res["error"]) if "error" in res else
                   "wall %.2f s cpu %.2f s TV %.3g (plain %.3g, extrapolated %.3g; target %.3g)"
                   % (res["wall"], res["cpu"], entry["tv_exact"], entry["tv_plain"],
                      entry["tv_extrapolated"], target)))
            return entry

        while i < len(tols):
            e = attempt(i)
            if e is None or e["capped"] or "error" in e:
                rec["capped"] = bool(e and e["capped"])
                break
            if e["tv_exact"] <= target:
                chosen = i
                if i - 1 >= 0 and (i - 1) not in tried and step == 2 and i > max(0, start_i):
                    e2 = attempt(i - 1)
                    if e2 and not e2["capped"] and "error" not in e2 and e2["tv_exact"] <= target:
                        chosen = i - 1
                break
            i += step
            if i >= len(tols) and (len(tols) - 1) not in tried:
                i = len(tols) - 1
        if chosen is not None:
            rec["chosen"] = tried[chosen]
            rec["capped"] = False
            start_i = chosen - 1
    return recs


def tcgpu_subset(exe, N, betas, tmp, tol, log):
    """One tcgpu process per beta: per-sweep wall (summary seconds), process wall and CPU."""
    per = []
    for i, beta in enumerate(betas):
        out = os.path.join(tmp, f"N{N}-sub{i}")
        w0 = time.perf_counter()
        p, cmd = run_tcgpu(exe, N, [beta], out, tol)
        cpu = wait_rusage(p)
        wall = time.perf_counter() - w0
        if p.returncode != 0:
            raise SystemExit(f"tcgpu failed ({p.returncode}): {' '.join(cmd)}\n"
                             + p.stderr.read().decode())
        rows, basis, prob, exact = read_tcgpu(out)
        r = rows[0]
        per.append({"row": r, "basis": basis, "prob": prob[0], "exact": exact[0],
                    "proc_wall": wall, "proc_cpu": cpu, "cmd": " ".join(cmd)})
        log(f"  N={N} beta={beta:.4g} tcgpu: {float(r['seconds']):.2f} s (process wall {wall:.2f},"
            f" cpu {cpu:.2f}) TV {float(r['tv_exact']):.3g} window ({-float(r['T0']):.4g},"
            f" {float(r['Tr']):.4g})")
    return per


def dense_windows(exe, N, betas, tmp, tol):
    """The windows tcgpu reads densely (no far field), for QuTiP's solves: one untimed process."""
    out = os.path.join(tmp, f"N{N}-dense-windows")
    shutil.rmtree(out, ignore_errors=True)
    p, cmd = run_tcgpu(exe, N, betas, out, tol, far=False)
    wait_rusage(p)
    if p.returncode != 0:
        raise SystemExit(f"tcgpu failed ({p.returncode}): {' '.join(cmd)}\n"
                         + p.stderr.read().decode())
    return read_tcgpu(out)[0]


def fmt(x, spec=".3g"):
    return "-" if x is None else format(x, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--N", type=int, default=20)
    ap.add_argument("--sweeps", type=int, default=64, help="rates in the full set")
    ap.add_argument("--subset", type=int, default=8, help="rates measured with QuTiP")
    ap.add_argument("--bmin", type=float, default=0.05)
    ap.add_argument("--bmax", type=float, default=100.0)
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--cap", type=float, default=300, help="wall cap of one QuTiP solve, s")
    ap.add_argument("--nsteps", type=int, default=10 ** 9)
    ap.add_argument("--tol-loosest", type=int, default=6, help="scan starts at 1e-<this>")
    ap.add_argument("--tol-tightest", type=int, default=13)
    ap.add_argument("--budget-min", type=float, default=1e9,
                    help="no new QuTiP sweep starts after this many minutes of the run")
    ap.add_argument("--n40", type=str, default="", help="comma list of N=40 betas ('' = skip)")
    ap.add_argument("--order", type=int, default=3, choices=(1, 2, 3),
                    help="dressing order of start and readout; must match the tcgpu binary "
                         "(3 since commit 61219d6 up to 2000 states, 2 since 2cb5594, 1 before)")
    ap.add_argument("--point", action="append", default=[], metavar="BETA:TOL",
                    help="instead of the bench: one tcgpu sweep and one QuTiP solve at atol = "
                         "rtol = TOL on tcgpu's window (no scan); repeatable; prints JSON")
    ap.add_argument("--no-full", action="store_true", help="skip tcgpu on the other rates")
    ap.add_argument("--tcgpu", default=os.path.join(REPO, "build", "tcgpu"))
    ap.add_argument("--out", default=os.path.join(REPO, "bench", "results"))
    args = ap.parse_args()

    ORDER[0] = args.order
    TCGPU_TOL[0] = args.tol
    if args.point:
        return points(args)
    t_start = time.time()
    args.qutip_deadline = t_start + 60 * args.budget_min
    tmp = tempfile.mkdtemp(prefix="qutip-bench-")
    logf = open(os.path.join(tmp, "log.txt"), "w")

    def log(msg):
        line = time.strftime("%H:%M:%S ", time.gmtime()) + msg
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()

    exe = os.path.join(tmp, "tcgpu")  # a copy: the build folder may be rebuilt meanwhile
    shutil.copy2(args.tcgpu, exe)
    args.tcgpu = exe
    sampler = LoadSampler()
    sampler.start()
    info = machine()
    log(f"machine {info['cpu']} x{info['cores']}; {info['uptime_start']}; tmp {tmp}")

    betas = np.logspace(math.log10(args.bmin), math.log10(args.bmax), args.sweeps)
    sub_idx = sorted(set(np.round(np.linspace(0, args.sweeps - 1, args.subset)).astype(int)))
    sub_betas = [float(betas[i]) for i in sub_idx]
    rest_betas = [float(betas[i]) for i in range(args.sweeps) if i not in sub_idx]

    # 1. tcgpu on the subset, one process per rate, nothing else of ours running
    log(f"tcgpu N={args.N}, subset of {len(sub_betas)} rates")
    tsub = tcgpu_subset(args.tcgpu, args.N, sub_betas, tmp, args.tol, log)
    with open(os.path.join(tmp, f"N{args.N}-sub0", "run.json")) as f:
        rj = json.load(f)
    info.update(tcgpu_binary_commit=rj.get("git_commit"), tcgpu_backend=rj.get("backend"),
                tcgpu_threads=rj.get("threads"), tcgpu_device=rj.get("device"))
    log(f"tcgpu binary commit {rj.get('git_commit')}, backend {rj.get('backend')}, "
        f"threads {rj.get('threads')}")
    basis, exact = tsub[0]["basis"], np.array([x["exact"] for x in tsub])
    rows = [x["row"] for x in tsub]
    tcgpu_tv = [float(r["tv_exact"]) for r in rows]

    # 2. tcgpu on the other rates in the background (one core)
    full = None
    if not args.no_full and rest_betas:
        rest_out = os.path.join(tmp, f"N{args.N}-rest")
        w0 = time.perf_counter()
        full_p, full_cmd = run_tcgpu(args.tcgpu, args.N, rest_betas, rest_out, args.tol)
        log(f"tcgpu N={args.N} on the other {len(rest_betas)} rates in the background")

    # 3. QuTiP on the subset
    log(f"QuTiP N={args.N}: tolerance scans, cap {args.cap:.0f} s per solve")
    qrecs = bench_qutip(args.N, sub_betas, dense_windows(args.tcgpu, args.N, sub_betas, tmp,
                                                         args.tol),
                        basis, exact, tcgpu_tv, args, log)

    if not args.no_full and rest_betas:
        log("waiting for the background tcgpu run")
        cpu = wait_rusage(full_p)
        if full_p.returncode != 0:
            log("background tcgpu failed: " + full_p.stderr.read().decode())
        else:
            rrows, _, _, _ = read_tcgpu(rest_out)
            secs = [float(r["seconds"]) for r in rrows] + [float(r["seconds"]) for r in rows]
            tvs = [float(r["tv_exact"]) for r in rrows] + tcgpu_tv
            full = {"sweeps": len(secs), "seconds_sum": sum(secs),
                    "seconds_per_sweep_mean": sum(secs) / len(secs),
                    "seconds_median": float(np.median(secs)), "seconds_max": max(secs),
                    "tv_max": max(tvs), "rest_process_wall": time.perf_counter() - w0,
                    "rest_process_cpu": cpu, "rest_cmd": " ".join(full_cmd),
                    "rest": [{"beta": float(r["beta"]), "seconds": float(r["seconds"]),
                              "tv_exact": float(r["tv_exact"]), "T0": -float(r["T0"]),
                              "Tr": float(r["Tr"]), "steps": int(r["steps"])} for r in rrows]}
            log(f"tcgpu all {len(secs)} sweeps: {sum(secs):.1f} s (sum of per-sweep seconds)")

    # 4. N = 40 on a few rates
    n40 = None
    if args.n40 and time.time() > args.qutip_deadline:
        log("N = 40 skipped: time budget (--budget-min) spent")
    elif args.n40:
        b40 = [float(x) for x in args.n40.split(",")]
        log(f"tcgpu N=40 on {b40}")
        t40 = tcgpu_subset(args.tcgpu, 40, b40, tmp, args.tol, log)
        q40 = bench_qutip(40, b40, dense_windows(args.tcgpu, 40, b40, tmp, args.tol),
                          t40[0]["basis"],
                          np.array([x["exact"] for x in t40]),
                          [float(x["row"]["tv_exact"]) for x in t40], args, log)
        n40 = (t40, q40)

    sampler.stop.set()
    info["uptime_end"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    write_results(args, info, sampler.samples, tsub, qrecs, full, n40, time.time() - t_start,
                  tmp, log)


def points(args):
    """--point BETA:TOL: tcgpu one sweep (process wall/CPU), then QuTiP at TOL, one after the
    other, on the window tcgpu chose."""
    tmp = tempfile.mkdtemp(prefix="qutip-point-")
    exe = os.path.join(tmp, "tcgpu")
    shutil.copy2(args.tcgpu, exe)
    rows = []
    for pt in args.point:
        beta, qtol = (float(x) for x in pt.split(":"))
        sub = os.path.join(tmp, f"N{args.N}-sub0")
        shutil.rmtree(sub, ignore_errors=True)
        t = tcgpu_subset(exe, args.N, [beta], tmp, args.tol, lambda m: print(m, flush=True))[0]
        r = dense_windows(exe, args.N, [beta], tmp, args.tol)[0]
        res = qutip_capped(args.cap, t["basis"], args.N, beta, -float(r["T0"]), float(r["Tr"]),
                           qtol, args.nsteps)
        row = {"N": args.N, "beta": beta, "T0": -float(r["T0"]), "Tr": float(r["Tr"]),
               "tcgpu_seconds": float(r["seconds"]), "tcgpu_process_cpu": t["proc_cpu"],
               "tcgpu_tv_exact": float(r["tv_exact"]), "qutip_tol": qtol,
               "qutip_capped": res["capped"], "qutip_wall": res["wall"], "order": ORDER[0],
               "tcgpu_commit": json.load(open(os.path.join(tmp, f"N{args.N}-sub0",
                                                           "run.json"))).get("git_commit"),
               "loadavg": open("/proc/loadavg").read().split()[:3]}
        if "prob" in res:
            tp = tv(res["prob"], t["exact"])
            te = tv(res["prob"] + (res["prob"] - res["prob_m"]) / 0.69, t["exact"])
            row.update(qutip_cpu=res["cpu"], qutip_tv_plain=tp, qutip_tv_extrapolated=te,
                       ratio_cpu=res["cpu"] / t["proc_cpu"])
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def table(N, tsub, qrecs):
    recs, ratios_w, ratios_c, lines = [], [], [], []
    lines.append("| beta | window (T0, Tr) | tcgpu s | tcgpu CPU s | QuTiP s | QuTiP CPU s | "
                 "ratio (wall) | ratio (CPU) | TV tcgpu | TV QuTiP | QuTiP atol=rtol | "
                 "QuTiP scan |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for t, q in zip(tsub, qrecs):
        r = t["row"]
        ts, tc, ttv = float(r["seconds"]), t["proc_cpu"], float(r["tv_exact"])
        ch = q["chosen"]
        scan = "; ".join(
            f"{e['tol']:.1e}: " + ("capped" if e["capped"] else "error" if "error" in e else
                                   f"{e['wall']:.1f} s TV {e['tv_exact']:.1e}") for e in q["scan"])
        rec = {"N": N, "beta": q["beta"], "T0": q["T0"], "Tr": q["Tr"], "tcgpu_seconds": ts,
               "tcgpu_process_wall": t["proc_wall"], "tcgpu_process_cpu": tc,
               "tcgpu_tv_exact": ttv, "tcgpu_steps": int(r["steps"]),
               "tcgpu_applications": int(r["applications"]), "tcgpu_err_estimate":
               float(r["err_estimate"]), "target_tv": q["target_tv"], "qutip_scan": q["scan"],
               "qutip_capped": q["capped"]}
        if ch:
            rec.update(qutip_seconds=ch["wall"], qutip_cpu=ch["cpu"], qutip_solve=ch["solve"],
                       qutip_tv_exact=ch["tv_exact"], qutip_tol=ch["tol"],
                       ratio_wall=ch["wall"] / ts, ratio_cpu=ch["cpu"] / tc)
            ratios_w.append(ch["wall"] / ts)
            ratios_c.append(ch["cpu"] / tc)
            lines.append(f"| {q['beta']:.4g} | ({q['T0']:.4g}, {q['Tr']:.4g}) | {ts:.2f} | "
                         f"{tc:.2f} | {ch['wall']:.2f} | {ch['cpu']:.2f} | "
                         f"{ch['wall'] / ts:.1f} | {ch['cpu'] / tc:.1f} | {ttv:.2e} | "
                         f"{ch['tv_exact']:.2e} | {ch['tol']:.1e} ({ch['readout']}) | {scan} |")
        else:
            last = q["scan"][-1] if q["scan"] else None
            lb = (f"> {last['wall'] / ts:.1f}" if last and last["capped"] else "-")
            rec.update(ratio_wall_lower_bound=(last["wall"] / ts if last and last["capped"]
                                               else None))
            lines.append(f"| {q['beta']:.4g} | ({q['T0']:.4g}, {q['Tr']:.4g}) | {ts:.2f} | "
                         f"{tc:.2f} | " + (f"> {last['wall']:.0f} (capped)" if last and
                                           last["capped"] else "scan not finished (time budget)" if q.get("skipped") else
                                           "not reached") +
                         f" | - | {lb} | - | {ttv:.2e} | - | - | {scan} |")
        recs.append(rec)

    def gm(x):
        return float(np.exp(np.mean(np.log(x)))) if x else None
    stats = {"ratio_wall_median": float(np.median(ratios_w)) if ratios_w else None,
             "ratio_wall_geomean": gm(ratios_w),
             "ratio_cpu_median": float(np.median(ratios_c)) if ratios_c else None,
             "ratio_cpu_geomean": gm(ratios_c), "measured": len(ratios_w),
             "capped": sum(1 for q in qrecs if q["capped"])}
    return recs, stats, lines


def write_results(args, info, load, tsub, qrecs, full, n40, elapsed, tmp, log):
    day = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    stem = os.path.join(args.out, f"{day}-{info['hostname']}-qutip")
    os.makedirs(args.out, exist_ok=True)
    recs, stats, lines = table(args.N, tsub, qrecs)
    doc = {"case": {"model": "tc", "channels": 2, "g": G, "eps": EPS, "levels": LEVELS,
                    "N": args.N, "tol": args.tol, "sweeps": args.sweeps, "bmin": args.bmin,
                    "bmax": args.bmax, "subset": [r["beta"] for r in recs],
                    "qutip_cap_s": args.cap},
           "machine": info, "load_samples": load, "elapsed_s": elapsed, "per_beta": recs,
           "stats": stats, "tcgpu_full": full, "command": " ".join(sys.argv)}
    if n40:
        r40, s40, l40 = table(40, *n40)
        doc["N40"] = {"per_beta": r40, "stats": s40}
    with open(stem + ".json", "w") as f:
        json.dump(doc, f, indent=1)
    la = [x[1] for x in load]
    md = [f"# tcgpu (CPU, one core) vs QuTiP {info['qutip']} sesolve: two channels, N = {args.N}",
          "",
          f"Run {day} on `{info['hostname']}`: {info['cpu']}, {info['cores']} cores; "
          f"Python {info['python']}, QuTiP {info['qutip']}, numpy {info['numpy']}, "
          f"scipy {info['scipy']}; tcgpu binary built from commit "
          f"{info.get('tcgpu_binary_commit')} (repository HEAD {info['tcgpu_commit'][:12]}), "
          f"backend {info.get('tcgpu_backend')}, {info.get('tcgpu_threads')} thread.",
          f"Load (1-min average, sampled every 15 s): min {min(la):.2f}, median "
          f"{float(np.median(la)):.2f}, max {max(la):.2f}. Start: `{info['uptime_start']}`; "
          f"end: `{info['uptime_end']}`. Wall time of the whole run {elapsed / 60:.1f} min.",
          "",
          f"Command: `{doc['command']}`",
          "",
          f"Case: K = 2, g = 1, eps = 0.5 (pair energies -1, +1), tol {args.tol:g}, "
          f"{args.sweeps} rates log-spaced over beta in [{args.bmin:g}, {args.bmax:g}]; "
          f"{len(recs)} of them measured with both. tcgpu s = summary.csv `seconds` (wall of "
          "the sweep, all its control runs); tcgpu CPU s = CPU time of the tcgpu process for "
          "that one sweep. QuTiP s = wall of one sweep at the chosen tolerance (model, dressed "
          "start, sesolve, dressed readout), QuTiP CPU s its CPU time; the tolerance scan "
          "itself is not counted (listed in the last column). Ratios = QuTiP / tcgpu. "
          "QuTiP's TV is the better of its plain dressed readout at Tr and tcgpu's window "
          "extrapolation P(Tr) + (P(Tr) - P(Tr/1.3))/0.69 from the same solve (chosen by "
          "comparison with the exact engine: this favours QuTiP). Target TV for QuTiP: "
          "max(tol, tcgpu's TV). The window QuTiP solves on is the one tcgpu reads with its "
          "dense readouts only (TCGPU_FAR_FIELD=0, untimed): tcgpu's own Tr, where its far "
          "field starts the in-sector continuation, is too early for a plain readout. "
          f"A QuTiP solve over {args.cap:.0f} s was killed (capped).",
          "", *lines, "",
          f"Ratio over the {stats['measured']} rates QuTiP finished: median "
          f"{fmt(stats['ratio_wall_median'], '.1f')} (wall), {fmt(stats['ratio_cpu_median'], '.1f')}"
          f" (CPU); geometric mean {fmt(stats['ratio_wall_geomean'], '.1f')} (wall), "
          f"{fmt(stats['ratio_cpu_geomean'], '.1f')} (CPU). Capped rates: {stats['capped']}."]
    if full:
        md += ["", f"tcgpu, all {full['sweeps']} rates (N = {args.N}, tol {args.tol:g}): "
               f"sum of per-sweep seconds {full['seconds_sum']:.1f} s, mean "
               f"{full['seconds_per_sweep_mean']:.2f} s, median {full['seconds_median']:.2f} s, "
               f"max {full['seconds_max']:.1f} s; worst TV vs exact {full['tv_max']:.2e}. "
               f"(The {full['sweeps'] - len(recs)} rates outside the subset ran in one background "
               "process on the second core while QuTiP ran.)"]
    if n40:
        md += ["", "## N = 40 (861 states)", "", *l40, "",
               f"Ratio median {fmt(s40['ratio_wall_median'], '.1f')} (wall), "
               f"{fmt(s40['ratio_cpu_median'], '.1f')} (CPU); capped {s40['capped']}."]
    with open(stem + ".md", "w") as f:
        f.write("\n".join(md) + "\n")
    shutil.copy(os.path.join(tmp, "log.txt"), stem + ".log")
    log(f"wrote {stem}.json, .md, .log")


if __name__ == "__main__":
    main()
