#!/usr/bin/env python3
"""The bench suite's peers on the suite's cases: QuTiP 5 sesolve (one sweep, and an ensemble
through qutip.parallel_map) and dynamiqs (JAX) where it imports, at the accuracy tcgpu reached.

Each peer gets tcgpu's window (-T0, Tr) from the suite's magnus4 "auto" record and tcgpu's
dressed start and readout (the numpy port in qutip_vs_tcgpu.py). Its tolerance atol = rtol is
tightened by decades from --tol-loosest until its TV against the exact engine is at most
max(tol, tcgpu's TV); the time reported is the one solve at that tolerance (the scan is listed,
not counted). Writes one JSON object per line to --out.

Usage: peers.py --suite tcgpu.jsonl --dist-dir DIR --out peers.jsonl [--cap S] [--cases A,B]
"""
import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qutip_vs_tcgpu as q  # noqa: E402  (sets the BLAS threads to 1 before numpy loads)
import numpy as np  # noqa: E402


def dq_sweep(basis, N, beta, T0, Tr, tol, levels):
    """One dynamiqs sweep (Tsit5, double precision, dense), same start and readout as QuTiP.
    Tr <= -T0 only compiles (JAX traces shapes, so the real sweep reuses the compiled code)."""
    import dynamiqs as dq
    import jax.numpy as jnp

    w0, c0 = time.perf_counter(), time.process_time()
    b, a, V = q.build_model(basis, N, beta, levels=levels)
    s = int(np.where((np.asarray(basis) == 0).all(axis=1))[0][0])
    psi0 = q.dressed_start(b, a, V, -T0, s)
    H = dq.constant(jnp.asarray(V.toarray() + np.diag(a))) + dq.modulated(
        lambda t: t, jnp.asarray(np.diag(b)))
    res = dq.sesolve(H, jnp.asarray(psi0)[:, None], jnp.array([-T0, max(Tr, -T0 + 1e-9)]),
                     method=dq.method.Tsit5(rtol=tol, atol=tol, max_steps=10 ** 8),
                     progress_meter=False)
    psi = np.asarray(res.states[-1].to_jax()).ravel()
    prob = q.dressed_readout(b, a, V, Tr, psi) if Tr > -T0 else None
    return prob, time.perf_counter() - w0, time.process_time() - c0


def scan(solve, target, tols, deadline):
    """Tighten by decades until TV <= target; returns (chosen entry or None, scan)."""
    out = []
    for tol in tols:
        if time.time() > deadline:
            out.append({"tol": tol, "skipped": "budget"})
            return None, out
        e = dict(solve(tol, deadline - time.time()), tol=tol)
        out.append(e)
        if "tv" not in e:
            return None, out
        if e["tv"] <= target:
            return e, out
    return None, out


def qutip_entry(res, exact):
    if res.get("capped") or "error" in res:
        return {"capped": bool(res.get("capped")), "error": res.get("error"),
                "wall": res["wall"]}
    tv_plain = q.tv(res["prob"], exact)
    tv_extr = q.tv(res["prob"] + (res["prob"] - res["prob_m"]) / 0.69, exact)
    return {"wall": res["wall"], "cpu": res["cpu"], "solve": res["solve"],
            "tv": min(tv_plain, tv_extr), "readout": "plain" if tv_plain <= tv_extr else
            "extrapolated"}


def _pm_task(i, basis, N, beta, T0, Tr, tol, levels):
    return q.qutip_sweep(basis, N, beta, T0, Tr, tol, 10 ** 9, levels)[0]


def run_dynamiqs(base, basis, exact, N, beta, T0, Tr, levels, target, tols, args, have_dq, dq_why,
                 emit):
    if not have_dq:
        emit(dict(base, peer="dynamiqs", status="not run (import failed: %s)" % dq_why))
        return

    def dq_solve(tol, left):
        # A first call on an empty window compiles (JAX); the real sweep is timed without it.
        compile_wall = dq_sweep(basis, N, beta, T0, -T0, tol, levels)[1]
        prob, wall, cpu = dq_sweep(basis, N, beta, T0, Tr, tol, levels)
        return {"wall": wall, "cpu": cpu, "compile_wall": compile_wall, "tv": q.tv(prob, exact)}

    try:
        chosen, sc = scan(dq_solve, target, tols, time.time() + args.cap)
        emit(dict(base, peer="dynamiqs", version=have_dq,
                  status="ok" if chosen else "target not reached", chosen=chosen, scan=sc))
    except Exception as e:  # a solver failure is a result too
        emit(dict(base, peer="dynamiqs", version=have_dq, status="failed: %r" % e))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--suite", required=True)
    ap.add_argument("--dist-dir", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--cases", default="")
    ap.add_argument("--peer", choices=("qutip", "dynamiqs"), default="qutip")
    ap.add_argument("--cap", type=float, default=120, help="seconds per case and peer")
    ap.add_argument("--tol-loosest", type=int, default=6)
    ap.add_argument("--tol-tightest", type=int, default=12)
    ap.add_argument("--cores", type=int, default=os.cpu_count())
    args = ap.parse_args()
    recs = [json.loads(line) for line in open(args.suite) if line.startswith("{")]
    cases = {r["case"]: r for r in recs if r["kind"] == "case"}
    auto = {r["case"]: r for r in recs if r["kind"] == "auto" and r["method"] == "magnus4"}
    want = [c for c in args.cases.split(",") if c] or list(cases)
    tols = [10.0 ** -e for e in range(args.tol_loosest, args.tol_tightest + 1)]
    have_dq, dq_why = None, ""
    if args.peer == "dynamiqs":
        try:
            import dynamiqs as dq
            dq.set_precision("double")
            have_dq = dq.__version__
        except Exception as e:  # recorded, not hidden
            dq_why = repr(e)
    out = open(args.out, "a")

    def emit(rec):
        out.write(json.dumps(rec) + "\n")
        out.flush()
        print(json.dumps(rec)[:300], flush=True)

    for name in want:
        c, a = cases.get(name), auto.get(name)
        if not c or not a or a.get("status") != "ok":
            emit({"kind": "peer", "case": name, "peer": args.peer, "status":
                  "not run (no tcgpu grid: %s)" % (a or {}).get("reason", "case not run")})
            continue
        dist = np.loadtxt(os.path.join(args.dist_dir, name + ".dist"), ndmin=2)
        basis, exact = dist[:, :-1].astype(np.int64), dist[:, -1]
        N, beta, levels, T0, Tr = c["N"], c["beta"], tuple(c["levels"]), a["T0"], a["Tr"]
        target = max(c["tol"], a["tv"])
        base = {"kind": "peer", "case": name, "target_tv": target, "T0": T0, "Tr": Tr}

        if args.peer == "dynamiqs":
            run_dynamiqs(base, basis, exact, N, beta, T0, Tr, levels, target, tols, args,
                         have_dq, dq_why, emit)
            continue
        deadline = time.time() + args.cap
        chosen, sc = scan(lambda tol, left: qutip_entry(q.qutip_capped(
            max(1.0, left), basis, N, beta, T0, Tr, tol, 10 ** 9, levels), exact),
            target, tols, deadline)
        emit(dict(base, peer="qutip-sesolve", status="ok" if chosen else "target not reached",
                  chosen=chosen, scan=sc))
        if chosen:
            # The ensemble: as many copies as fit half the case's budget on all cores.
            import qutip
            n = int(min(64, max(2 * args.cores, args.cap / 2 * args.cores / chosen["wall"])))
            n -= n % args.cores
            w0, c0 = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
            probs = qutip.parallel_map(_pm_task, list(range(n)), task_args=(
                basis, N, beta, T0, Tr, chosen["tol"], levels), map_kw={
                    "num_cpus": args.cores, "timeout": args.cap * 2, "fail_fast": True})
            wall, c1 = time.perf_counter() - w0, resource.getrusage(resource.RUSAGE_CHILDREN)
            done = [p for p in probs if p is not None]
            emit(dict(base, peer="qutip-parallel_map", status="ok", sweeps=len(done),
                      cores=args.cores, tol=chosen["tol"], wall=wall,
                      cpu_children=c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime,
                      sweeps_per_s=len(done) / wall, tv=q.tv(done[0], exact)))


if __name__ == "__main__":
    main()
