"""tcgpu.exact against `tcgpu exact`: the same library calls, so the same doubles to the last
bit; shapes, dtypes, and bad arguments as ValueError with the library's message."""
import re

import numpy as np
import pytest

import tcgpu
from conftest import read_csv

G = np.array([0.5, 1.25])
BETA = np.array([0.1, 1.0, 7.5, 60.0])
# The CLI loops g outer, beta inner: the same order as the broadcast grid g[:, None], beta.
GRID = dict(g=G[:, None], beta=BETA)


def cli_table(cli, tmp_path, *args):
    out = tmp_path / "t.csv"
    cli("exact", "--g", "0.5,1.25", "--beta", "0.1,1,7.5,60", *args, "--out", out)
    return read_csv(out)


def test_three_channel_distribution_is_the_clis_bit_for_bit(cli, tmp_path):
    t = cli_table(cli, tmp_path, "--N", 7, "--channels", 3, "--levels", "0.3,-1,2", "--what",
                  "dist")
    p = tcgpu.exact("tc", 7, 3, levels=[0.3, -1, 2], what="dist", **GRID)
    assert p.shape == (2, 4, 120) and p.dtype == np.float64
    assert np.array_equal(p.reshape(-1), t["prob"])
    basis = tcgpu.basis(7, 3)
    assert basis.shape == (120, 3) and basis.dtype == np.int32
    assert np.array_equal(np.tile(basis, (8, 1)), np.stack([t["n1"], t["n2"], t["n3"]], 1))


def test_two_channel_moments_and_total_are_the_clis_bit_for_bit(cli, tmp_path):
    t = cli_table(cli, tmp_path, "--N", 30, "--what", "moments")
    m = tcgpu.exact("tc", 30, 2, what="moments", **GRID)
    assert m["mean"].shape == (2, 4, 2) and m["mean_n"].shape == (2, 4) == m["eta"].shape
    assert np.array_equal(m["mean"][..., 0].reshape(-1), t["mean_n1"])
    assert np.array_equal(m["mean"][..., 1].reshape(-1), t["mean_n2"])
    assert np.array_equal(m["mean_n"].reshape(-1), t["mean_n"])
    assert np.array_equal(m["eta"].reshape(-1), t["eta"])
    t = cli_table(cli, tmp_path, "--N", 30, "--what", "total")
    assert np.array_equal(tcgpu.exact("tc", 30, 2, what="total", **GRID).reshape(-1), t["prob"])


def test_small_models_and_heff_are_the_clis_bit_for_bit(cli, tmp_path):
    t = cli_table(cli, tmp_path, "--model", "lz")
    assert np.array_equal(tcgpu.exact("lz", **GRID).reshape(-1), t["prob"])
    t = cli_table(cli, tmp_path, "--model", "do", "--channels", 3, "--levels", "2,-1,0.5")
    p = tcgpu.exact("do", channels=3, levels=[2, -1, 0.5], **GRID)
    assert p.shape == (2, 4, 4) and np.array_equal(p.reshape(-1), t["prob"])
    t = cli_table(cli, tmp_path, "--model", "heff", "--N", 9, "--what", "dist")
    assert np.array_equal(tcgpu.exact("heff", 9, what="dist", **GRID).reshape(-1), t["prob"])
    t = cli_table(cli, tmp_path, "--model", "heff", "--N", 9, "--what", "moments")
    m = tcgpu.exact("heff", 9, what="moments", **GRID)
    assert np.array_equal(m["mean"][..., 1].reshape(-1), t["mean_n2"])
    assert np.array_equal(m["eta"].reshape(-1), t["eta"])


def test_critical_rates_and_phases_are_the_clis_bit_for_bit(cli, tmp_path):
    out = tmp_path / "c.csv"
    cli("exact", "--what", "critical", "--N", 500, "--g", "0.5,1.25", "--out", out)
    t = read_csv(out)
    c = tcgpu.exact("tc", 500, what="critical", g=G)
    assert np.array_equal(c["beta_c"], t["beta_c_exact"])
    assert np.array_equal(c["beta_c_asymptotic"], t["beta_c_asymptotic"])
    cli("exact", "--what", "phases", "--channels", 1, "--N", 5, "--beta", 2, "--g",
        "0.3,0.9", "--out", out)
    t = read_csv(out)
    ph = tcgpu.exact("tc", 5, 1, g=[0.3, 0.9], beta=2.0, what="phases")
    assert ph["phase"].shape == (2, 6)
    assert np.array_equal(ph["phase"].reshape(-1), t["phase"])
    assert np.array_equal(ph["prob"].reshape(-1), t["prob"])


def test_scalars_give_one_distribution():
    p = tcgpu.exact("tc", 4, 2, g=1.0, beta=3.0, what="dist")
    assert p.shape == (15,) and abs(p.sum() - 1) < 1e-14


@pytest.mark.parametrize("kwargs, says", [
    (dict(model="xx"), "unknown model 'xx'"),
    (dict(model="lz", what="moments"), "not available for model 'lz'"),
    (dict(what="nonsense"), "unknown table 'nonsense'"),
    (dict(beta=-1.0), "sweep rate must be a finite number > 0"),
    (dict(g=float("nan")), "must be a finite number > 0"),
    (dict(levels=[1.0, 1.0]), "are equal (1): the solvable model needs distinct energies"),
    (dict(levels=[1.0, 2.0, 3.0]), "expected 2 (one energy per channel)"),
    (dict(N=-3, what="dist"), "N: -3 is negative"),
    (dict(N=-3), "N = -3: the number of molecules must be >= 0"),
    (dict(N=2.5), "expected an integer"),
    (dict(g=[1, 2], beta=[1, 2, 3]), "do not broadcast"),
    (dict(channels=1, what="phases", beta=1.0, N=-1), "N: -1 is negative"),
])
def test_bad_arguments_raise_value_error_with_the_reason(kwargs, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        tcgpu.exact(**{"model": "tc", "N": 4, **kwargs})
