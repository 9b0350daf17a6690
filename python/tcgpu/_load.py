"""tcgpu.load: a `tcgpu run` folder (summary.csv, dist.h5, run.json) as a tcgpu.Result."""
import csv
import json
from pathlib import Path

import numpy as np

from ._result import Result


def _number(text):
    return float(text) if text != "" else np.nan  # an empty cell: no value there


def load(path):
    """Reads the folder of a CLI run, finished or interrupted: distributions, basis and the
    unrounded err_estimate and tv from dist.h5 (h5py), the rest from summary.csv (norm_error
    there has 4 digits, seconds 3 decimals), and run.json as the record."""
    import h5py  # Debian's python3-h5py; only this function needs it

    d = Path(path)
    for name in ("summary.csv", "dist.h5", "run.json"):
        if not (d / name).is_file():
            raise ValueError(f"{d}: no {name}; expected the folder of a tcgpu run")
    record = json.loads((d / "run.json").read_text())
    with open(d / "summary.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with h5py.File(d / "dist.h5", "r") as h:
        sweep = h["sweep"][:].astype(np.int64)
        prob = h["prob"][:]
        exact = h["exact"][:] if "exact" in h else np.full_like(prob, np.nan)
        basis = h["basis"][:].astype(np.int32)
        cols = {k: h[k][:] for k in ("g", "beta", "eps", "err_estimate", "tv_exact")}
    by_sweep = {int(r["sweep"]): r for r in rows}
    missing = [s for s in sweep if int(s) not in by_sweep]
    if missing:
        raise ValueError(f"{d}: sweeps {missing[:5]} are in dist.h5 but not in summary.csv")
    rows = [by_sweep[int(s)] for s in sweep]
    nk = sum(1 for c in (rows[0] if rows else {}) if c.startswith("mean_n") and c != "mean_n")
    if not rows:  # an interrupted run may hold no finished sweep: keep the shapes
        with open(d / "summary.csv", newline="") as f:
            header = next(csv.reader(f))
        nk = sum(1 for c in header if c.startswith("mean_n") and c != "mean_n")

    def col(name, dtype=np.float64):
        conv = (lambda t: int(t)) if dtype == np.int64 else _number
        return np.array([conv(r[name]) for r in rows], dtype=dtype)

    mean = np.array([[_number(r[f"mean_n{k}"]) for k in range(1, nk + 1)] for r in rows],
                    dtype=np.float64).reshape(len(rows), nk)
    return Result(sweep=sweep, g=cols["g"], beta=cols["beta"], eps=cols["eps"], prob=prob,
                  exact=exact, basis=basis, mean=mean, mean_n=col("mean_n"), eta=col("eta"),
                  tv=cols["tv_exact"], maxabs=col("maxabs_exact"),
                  err_estimate=cols["err_estimate"], T0=col("T0"), Tr=col("Tr"), kappa=col("dt"),
                  norm_error=col("norm_error"), seconds=col("seconds"), steps=col("steps", np.int64),
                  applications=col("applications", np.int64), record=record)
