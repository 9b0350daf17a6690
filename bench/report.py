#!/usr/bin/env python3
"""Collects a bench/run work folder (machine.jsonl, tcgpu.jsonl, peers.jsonl, gpu_march.*) into
NAME.json (every record) and NAME.md (the tables). Usage: report.py WORKDIR NAME"""
import json
import os
import sys


def load(path):
    if not os.path.exists(path):
        return []
    return [json.loads(x) for x in open(path) if x.startswith("{")]


def g(x, spec=".3g"):
    return "-" if x is None else format(x, spec)


def main():
    work, name = sys.argv[1], sys.argv[2]
    mach = load(os.path.join(work, "machine.jsonl"))
    tc, peers = load(os.path.join(work, "tcgpu.jsonl")), load(os.path.join(work, "peers.jsonl"))
    m = next(r for r in mach if r["kind"] == "machine")
    end = next((r for r in mach if r["kind"] == "end"), {})
    # Nominal fp64 peak: clock x vector lanes x 2 (FMA) x 2 FMA units per core (an assumption:
    # the VM does not say how many units the core has).
    lanes = 8 if m.get("avx512") else 4 if m.get("avx2") else 2
    nominal = m["cores"] * m["mhz"] * 1e-3 * lanes * 2 * 2 if m.get("mhz") else None
    dgemm = m.get("dgemm_gflops_all")
    gpu_csv = os.path.join(work, "gpu_march.csv")
    doc = {"machine": m, "end": end, "nominal_peak_gflops": nominal, "tcgpu": tc,
           "peers": peers, "gpu_march_csv": open(gpu_csv).read() if os.path.exists(gpu_csv)
           else None}
    with open(name + ".json", "w") as f:
        json.dump(doc, f, indent=1)

    def rec(kind, case, method=None, backend="cpu"):
        return [r for r in tc if r["kind"] == kind and r["case"] == case and
                (method is None or r["method"] == method) and
                (kind != "process" or r["backend"] == backend)]

    cases = list(dict.fromkeys(r["case"] for r in tc if r["kind"] == "case"))
    L = []
    L.append(f"# tcgpu bench suite: `{m['host']}`, {m['date'][:10]}\n")
    L.append(f"Machine: {m['cpu']}, {m['cores']} cores at {m.get('mhz')} MHz (/proc/cpuinfo), "
             f"{'AVX-512' if m.get('avx512') else 'AVX2' if m.get('avx2') else 'SSE'}; "
             f"GPU: {m.get('gpu') or 'none'}. OpenBLAS dgemm (numpy, n = 2000): "
             f"{g(m.get('dgemm_gflops_1'))} GFLOP/s on 1 core, {g(dgemm)} on {m['cores']}; "
             f"nominal fp64 peak {g(nominal)} GFLOP/s (clock x {lanes} lanes x FMA x 2 FMA "
             f"units per core, assumed). Load average (1, 5, 15 min) at start: "
             f"{m['load_start']}, at end: {end.get('load_end', '?')}; per process below. "
             f"tcgpu commit {m['commit']}{' (with local changes)' if m.get('dirty') else ''}. "
             f"Command: `{m['command']}` ({end.get('wall_s', '?')} s). Ensemble budget "
             f"{m['budget_s']} s per case and method (process killed at 3 budgets + 30 s); "
             f"peer cap {m['peer_cap_s']} s per case (dynamiqs half).\n")
    L.append("Cases (g = 1): " + "; ".join(
        "**{case}** K = {K}, N = {N}, beta = {beta:.4g}, pair energies {levels}, {dim} states"
        .format(**r) for r in tc if r["kind"] == "case" and r["method"] == "magnus4") + ".\n")

    L.append("## tcgpu, one controlled sweep (tcgpu_sweep_auto, tol = TV 1e-6)\n")
    L.append("| case | dim | method | wall s | CPU s | TV vs exact | window (-T0, Tr) | kappa | "
             "steps | grid sweep: start / march / readout s | grid TV | peak RSS MiB | "
             "load 1-min (before, after) |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for c in cases:
        for meth in ("magnus4", "rk4"):
            a, gr = rec("auto", c, meth), rec("grid", c, meth)
            pr, sm = rec("process", c, meth), rec("summary", c, meth)
            cs = rec("case", c, meth)
            if not cs:
                continue
            dim = cs[0]["dim"]
            load_s = f"{pr[0]['load1_before']}, {pr[0]['load1_after']}" if pr else "-"
            rss = g(sm[0]["maxrss_kib"] / 1024, ".0f") if sm else "-"
            if not a:
                why = ("killed at the time limit (rc %d)" % pr[0]["rc"]) if pr else "not run"
                L.append(f"| {c} | {dim} | {meth} | {why} | | | | | | | | {rss} | {load_s} |")
                continue
            a = a[0]
            if a["status"] != "ok":
                L.append(f"| {c} | {dim} | {meth} | refused: {a['reason']} | | n/a (readout) | "
                         f"| | | | | {rss} | {load_s} |")
                continue
            gs = ("%s / %s / %s" % (g(gr[0]["start_s"]), g(gr[0]["march_s"]),
                                    g(gr[0]["readout_s"]))) if gr and "start_s" in gr[0] else "-"
            gtv = g(gr[0].get("tv"), ".2e") if gr else "-"
            L.append(f"| {c} | {dim} | {meth} | {g(a['wall_s'])} | {g(a['cpu_s'])} | "
                     f"{a['tv']:.2e} | ({a['T0']:.4g}, {a['Tr']:.4g}) | {a['kappa']:.4g} | "
                     f"{a['steps']} | {gs} | {gtv} | {rss} | {load_s} |")
    L.append("")
    L.append("Wall and CPU s: the whole controlled sweep (its window search and step check: "
             "about 1.5 marches to Tr plus a start-error probe, dressed start and readouts). "
             "Grid sweep: one sweep on the auto's final grid, timed in parts; every ensemble "
             "sweep below is this sweep (the batch's final state is compared with it: "
             "`max_diff_vs_single` in the JSON). Peak RSS: ru_maxrss of the process that ran "
             "the case and method, ensembles included.\n")

    L.append("## tcgpu, ensembles (tcgpu_march_batch, the grid above, march only)\n")
    L.append("| case | method | backend | sweeps | threads | wall s | sweeps/s | "
             "amplitude updates/s | GFLOP/s | of dgemm | of nominal peak |")
    L.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for c in cases:
        for meth in ("magnus4", "rk4"):
            for e in rec("ensemble", c, meth):
                be = "cuda " + e.get("path", "") if "device" in e else "cpu"
                if e["status"] != "ok":
                    extra = (f" (predicted {e['predicted_s']:.0f} s, "
                             f"{max(0, e['budget_left_s']):.0f} s left)") if "predicted_s" in e else ""
                    L.append(f"| {c} | {meth} | {be} | {e['sweeps']} | | {e['status']}{extra} "
                             "| | | | | |")
                    continue
                sps = g(e["sweeps_per_s"])
                if e.get("partial_window"):
                    sps = "n/a (partial window %s)" % ("-0.5..0.5")
                note = f" ({e['note']})" if e.get("note") else ""
                L.append(f"| {c} | {meth} | {be} | {e['sweeps']}{note} | {e['threads']} | "
                         f"{g(e['wall_s'])} | {sps} | {e['amplitude_updates_per_s']:.3g} | "
                         f"{g(e['gflops'])} | "
                         f"{g(100 * e['gflops'] / dgemm, '.1f') + ' %' if dgemm else '-'} | "
                         f"{g(100 * e['gflops'] / nominal, '.1f') + ' %' if nominal else '-'} |")
    L.append("")
    L.append("Amplitude updates = states x steps x sweeps. FLOPs: per application of the "
             "coupling matrix, 10 per stored coupling plus 12 (Magnus-4) or 8 (RK4) per state, "
             "counted from src/step/step.h (bench/suite.c says how); scalar work per step is not "
             "counted. Fractions: against the measured OpenBLAS dgemm on all cores and against "
             "the nominal peak (the clock /proc/cpuinfo reports may be below the running one: "
             "where dgemm beats the nominal peak, the dgemm is the reference). A count predicted to overrun the budget is not run; "
             "nothing is extrapolated. tc2-N100 (5151 states): its controlled sweep (6-31 min with "
             "magnus4, hours with RK4 on 2 cores; docs/numerics.md) is past the suite's budget, "
             "so no accuracy here; its ensembles march the diabatic start state over the window "
             "(-0.5, 0.5) only (throughput, not sweeps).\n")

    L.append("## Peers at the same accuracy\n")
    L.append("Each peer gets tcgpu's window and dressed start and readout (numpy port in "
             "qutip_vs_tcgpu.py) and its atol = rtol is tightened by decades (1e-6 ...) until "
             "its TV vs exact is at most max(1e-6, tcgpu magnus4's TV); QuTiP's TV is the "
             "better of its plain readout and tcgpu's window extrapolation (favours QuTiP). "
             "Times: the one solve at that tolerance, model + start + solve + readout; the scan "
             "is not counted. Ratio = peer time / tcgpu time (> 1: tcgpu faster), wall / CPU "
             "against the controlled sweep (which includes its own window and step search), "
             "and in brackets (wall) against tcgpu's grid sweep, start + march + readout on "
             "the grid the search found: like the peer's solve, a sweep whose accuracy "
             "parameters are already known "
             "(on a loaded machine read the CPU ratio; dynamiqs' CPU time counts all JAX "
             "threads). tcgpu single: "
             "the controlled sweep above (magnus4). Ensemble ratio: QuTiP parallel_map on all "
             "cores (full sweeps) against tcgpu's largest measured CPU ensemble (march only: "
             "add the grid sweep's start + readout per sweep for a full sweep).\n")
    L.append("| case | tcgpu s (TV) | QuTiP sesolve: tol, TV, wall s (CPU s) | ratio | "
             "parallel_map: sweeps, sweeps/s | tcgpu ensemble sweeps/s | ratio | "
             "dynamiqs: tol, TV, wall s (+ JAX compile) | ratio |")
    L.append("|---|---|---|---|---|---|---|---|---|")
    for c in cases:
        a = rec("auto", c, "magnus4")
        a = a[0] if a and a[0]["status"] == "ok" else None
        qs = [p for p in peers if p["case"] == c and p["peer"] in ("qutip-sesolve", "qutip")]
        pm = [p for p in peers if p["case"] == c and p["peer"] == "qutip-parallel_map"]
        dq = [p for p in peers if p["case"] == c and p["peer"] == "dynamiqs"]
        ens = [e for e in rec("ensemble", c, "magnus4") if e["status"] == "ok" and
               "device" not in e and not e.get("partial_window")]
        best = max(ens, key=lambda e: e["sweeps"]) if ens else None

        gr = [x for x in rec("grid", c, "magnus4") if "start_s" in x]
        grid_s = gr[0]["start_s"] + gr[0]["march_s"] + gr[0]["readout_s"] if gr else None

        def ratio(ch, t):
            if not t:
                return "-"
            r = g(ch["wall"] / t["wall_s"], ".2g")
            r += " / " + g(ch["cpu"] / t["cpu_s"], ".2g") if "cpu" in ch else ""
            return r + (" (grid: %s)" % g(ch["wall"] / grid_s, ".2g") if grid_s else "")

        def peer_cell(p, t_ref):
            if not p:
                return "not run", "-"
            p = p[0]
            if p.get("chosen"):
                ch = p["chosen"]
                cpu = f" ({g(ch['cpu'])})" if "cpu" in ch else ""
                first = f" (+{g(ch['compile_wall'])} compile)" if "compile_wall" in ch else ""
                cell = f"{ch['tol']:.0e}, {ch['tv']:.2e}, {g(ch['wall'])}{cpu}{first}"
                return cell, ratio(ch, t_ref)
            done = [s for s in p.get("scan", []) if "tv" in s]
            if done:
                b = min(done, key=lambda s: s["tv"])
                return (f"{p['status']}: best TV {b['tv']:.1e} at tol {b['tol']:.0e} in "
                        f"{g(b['wall'])} s (then {p['scan'][-1].get('skipped') or 'capped'})",
                        "> %s (bound, lower accuracy)" % ratio(b, t_ref) if t_ref else "-")
            first = (p.get("scan") or [{}])[0]
            if first.get("capped"):
                return (f"{p['status']}: first solve (tol {first['tol']:.0e}) capped at "
                        f"{g(first['wall'])} s", "> %s (bound)" % ratio({"wall": first["wall"]}, t_ref)
                        if t_ref else "-")
            return p["status"], "-"

        t_ref = a
        qc, qr = peer_cell(qs, t_ref)
        dc, dr = peer_cell(dq, t_ref)
        if pm:
            pc = f"{pm[0]['sweeps']}, {g(pm[0]['sweeps_per_s'])}"
            if pm[0].get("status") != "ok":
                pc = pm[0]["status"]
            er = g(best["sweeps_per_s"] / pm[0]["sweeps_per_s"], ".2g") if best else "-"
        else:
            pc, er = "not run", "-"
        tcell = f"{g(a['wall_s'])} ({a['tv']:.1e})" if a else "n/a (readout)"
        bcell = f"{g(best['sweeps_per_s'])} ({best['sweeps']} sweeps)" if best else "-"
        L.append(f"| {c} | {tcell} | {qc} | {qr} | {pc} | {bcell} | {er} | {dc} | {dr} |")
    L.append("")
    gm = os.path.join(work, "gpu_march.txt")
    if os.path.exists(gm):
        L.append("## GPU: bench/gpu_march.c on this machine\n\n```\n" + open(gm).read() + "```\n")
    with open(name + ".md", "w") as f:
        f.write("\n".join(L))


if __name__ == "__main__":
    main()
