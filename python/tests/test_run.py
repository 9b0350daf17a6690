"""tcgpu.run against `tcgpu run` (same sweeps, same probabilities), tcgpu.load of the CLI's
folder, the documented shapes and dtypes, bad arguments, and Ctrl-C."""
import os
import re
import signal
import threading
import time

import numpy as np
import pytest

import tcgpu
from conftest import read_csv

BETA, G = [0.3, 1.0, 3.0], [1.0, 1.5]


@pytest.fixture(scope="module")
def cli_run(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "r"
    cli("run", "--N", 5, "--beta", "0.3,1,3", "--g", "1,1.5", "--out", out, "--no-plot",
        threads=2)
    return out


@pytest.fixture(scope="module")
def py_run():
    return tcgpu.run(beta=BETA, g=G, N=5, threads=2)


def test_run_gives_the_clis_probabilities(cli_run, py_run):
    import h5py
    with h5py.File(cli_run / "dist.h5", "r") as h:
        assert np.array_equal(h["sweep"][:], py_run.sweep)
        assert np.array_equal(h["prob"][:], py_run.prob)  # bit for bit
        assert np.array_equal(h["exact"][:], py_run.exact)
        assert np.array_equal(h["basis"][:], py_run.basis)
        assert np.array_equal(h["err_estimate"][:], py_run.err_estimate)
    t = read_csv(cli_run / "summary.csv")
    assert np.array_equal(t["g"], py_run.g) and np.array_equal(t["beta"], py_run.beta)
    assert np.array_equal(np.stack([t["mean_n1"], t["mean_n2"]], 1), py_run.mean)
    assert np.array_equal(t["eta"], py_run.eta) and np.array_equal(t["tv_exact"], py_run.tv)
    assert np.array_equal(t["steps"], py_run.steps)
    assert (py_run.tv < 1e-6).all() and (py_run.err_estimate < 1e-6).all()


def test_load_reads_the_clis_folder(cli_run, py_run):
    r = tcgpu.load(cli_run)
    for name in ("sweep", "g", "beta", "eps", "prob", "exact", "basis", "mean", "mean_n", "eta",
                 "tv", "maxabs", "err_estimate", "Tr", "T0", "steps", "applications"):
        assert np.array_equal(getattr(r, name), getattr(py_run, name)), name
    assert r.record["completed"] is True and r.record["parameters"]["N"] == 5


def test_arrays_have_the_documented_shapes_and_dtypes(py_run):
    S, dim = 6, 21  # 3 beta x 2 g; two channels, N = 5: C(7, 2) states
    r = py_run
    assert len(r) == S and r.prob.shape == r.exact.shape == (S, dim)
    assert r.basis.shape == (dim, 2) and r.basis.dtype == np.int32
    assert r.mean.shape == (S, 2)
    for name in ("g", "beta", "eps", "mean_n", "eta", "tv", "maxabs", "err_estimate", "T0", "Tr",
                 "kappa", "norm_error", "seconds", "prob", "exact", "mean"):
        assert getattr(r, name).dtype == np.float64, name
        assert getattr(r, name).shape[0] == S, name
    for name in ("sweep", "steps", "applications"):
        assert getattr(r, name).dtype == np.int64 and getattr(r, name).shape == (S,), name
    assert np.array_equal(r.beta, np.tile(BETA, 2)) and np.array_equal(r.g, np.repeat(G, 3))
    assert r.record["completed"] and not r.record["interrupted"]
    assert r.record["timings"]["sweeps_done"] == S


def test_zip_grid_and_small_models():
    r = tcgpu.run(beta=[0.5, 2.0], g=[1.0, 0.7], grid="zip", model="lz")
    assert r.prob.shape == (2, 2) and np.array_equal(r.g, [1.0, 0.7])
    assert np.max(np.abs(r.prob - tcgpu.exact("lz", g=[1.0, 0.7], beta=[0.5, 2.0]))) < 1e-6
    r = tcgpu.run(beta=2.0, model="heff", N=4)
    assert np.array_equal(r.exact[0], tcgpu.exact("heff", 4, g=1.0, beta=2.0, what="dist"))


@pytest.mark.parametrize("kwargs, says", [
    (dict(model="xx"), "model 'xx': expected tc, lz, do or heff"),
    (dict(beta=[1.0, -2.0]), "beta = -2: the sweep rate must be a finite number > 0"),
    (dict(tol=2.0), "tol must lie in (0, 1)"),
    (dict(precision="single", tol=1e-6), "fp32 reaches 1e-4 at best"),
    (dict(method="euler"), "method: 'euler'; expected 'magnus4' or 'rk4'"),
    (dict(grid="zip", beta=[1, 2], g=[1, 2, 3]), "equal length"),
    (dict(levels=[1.0, 1.0]), "are equal"),
    (dict(model="heff", N=7000), "more than 6000 states"),
    (dict(beta=[]), "beta: no values"),
    (dict(threads=-1), "threads: -1; expected >= 1"),
])
def test_bad_arguments_raise_value_error_with_the_reason(kwargs, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        tcgpu.run(**{"beta": [1.0], "N": 3, **kwargs})


def test_ctrl_c_returns_the_finished_sweeps():
    # 2000 sweeps of ~0.03 s on one thread (2026-12-06; 60 sweeps had become too few to be
    # running after 2 s); SIGINT (what Ctrl-C sends) after 1 s.
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    t0 = time.monotonic()
    with pytest.warns(RuntimeWarning, match="interrupted"):
        r = tcgpu.run(beta=np.full(2000, 1.0), N=6, threads=1)
    wall = time.monotonic() - t0
    timer.join()
    assert r.record["interrupted"] and not r.record["completed"]
    assert 0 < len(r) < 2000 and wall < 10, (len(r), wall)
    assert np.array_equal(r.sweep, np.arange(len(r)))  # one thread: the first ones, in order
    assert (r.tv < 1e-6).all() and r.prob.shape == (len(r), 28)
    # The stop request does not outlive the run. (One thread again: with spare cores the dense
    # start and readout get BLAS threads, which changes the last bits of ~1e-30 entries.)
    again = tcgpu.run(beta=1.0, N=6, threads=1)
    assert again.record["completed"] and np.array_equal(again.prob[0], r.prob[0])


def test_other_threads_run_while_sweeps_compute():
    ticks, stop = [0], threading.Event()

    def count():
        while not stop.is_set():
            ticks[0] += 1
            time.sleep(0.001)

    th = threading.Thread(target=count)
    th.start()
    t0 = time.monotonic()
    tcgpu.run(beta=np.full(40, 1.0), N=6, threads=1)  # ~1 s (0.03 s a sweep, 2026-12-06)
    wall = time.monotonic() - t0
    stop.set()
    th.join()
    # Holding the GIL in the foreign call would leave the counter at ~0; free, it ticks about
    # once a millisecond (a tenth of that asked, for loaded machines).
    assert ticks[0] >= max(20, 0.1 * wall / 0.001), (ticks[0], wall)
