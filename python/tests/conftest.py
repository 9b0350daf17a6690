"""Shared fixtures: the CLI to compare with ($TCGPU_BIN, set by CTest; else ../../build/tcgpu),
and CSV tables read back exactly (the CLI prints %.17g, which round-trips every double)."""
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cli():
    exe = Path(os.environ.get("TCGPU_BIN") or ROOT / "build" / "tcgpu")
    if not exe.is_file():
        pytest.skip(f"{exe} not built")

    def call(*args, threads=None):
        env = dict(os.environ)
        if threads:
            env["OMP_NUM_THREADS"] = str(threads)
        r = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True, env=env)
        assert r.returncode == 0, r.stderr
        return r

    return call


def read_csv(path):
    """Columns of a CLI table by header name, as float64 (empty cell or text: NaN)."""
    lines = Path(path).read_text().splitlines()
    names = lines[0].split(",")
    def number(c):
        try:
            return float(c)
        except ValueError:  # empty (no value) or a name (model, method)
            return np.nan

    rows = [[number(c) for c in line.split(",")] for line in lines[1:]]
    data = np.array(rows, dtype=np.float64).reshape(len(rows), len(names))
    return {n: data[:, i] for i, n in enumerate(names)}
