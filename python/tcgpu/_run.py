"""tcgpu.run: the sweeps of `tcgpu run` (CPU backend) through tcgpu_scan_run, into numpy."""
import threading
import time
import warnings

import numpy as np

from . import _lib
from ._exact import _integer
from ._lib import check, ptr
from ._result import Result

_METHODS = {"rk4": 0, "magnus4": 1}
_PRECISIONS = {"double": 0, "single": 1}


def _values(name, v):
    a = np.ascontiguousarray(v, dtype=np.float64).reshape(-1)
    if a.size == 0:
        raise ValueError(f"{name}: no values; expected at least one")
    return a


def _grid(beta, g, eps, grid):
    """The sweeps in the order of `tcgpu run`: product (beta fastest, then g, then eps) or zip
    (lists of equal length, or one value)."""
    b, gg, e = _values("beta", beta), _values("g", g), _values("eps", eps)
    if grid == "product":
        n = b.size * gg.size * e.size
        i = np.arange(n)
        return (gg[i // b.size % gg.size], b[i % b.size], e[i // (b.size * gg.size)])
    if grid == "zip":
        n = max(b.size, gg.size, e.size)
        if any(a.size not in (1, n) for a in (b, gg, e)):
            raise ValueError(f"grid='zip' needs beta, g and eps of equal length (or one value), "
                             f"got {b.size}, {gg.size}, {e.size}")
        return tuple(np.ascontiguousarray(np.broadcast_to(a, n)) for a in (gg, b, e))
    raise ValueError(f"grid: {grid!r}; expected 'product' or 'zip'")


def run(beta, g=1.0, eps=0.25, model="tc", N=10, channels=2, levels=None, grid="product",
        method="magnus4", precision="double", tol=None, T=0.0, dt=0.0, max_halvings=0,
        threads=0):
    """Propagates one sweep per grid point (as `tcgpu run`, CPU backend) and compares each with
    the exact engine. Returns a tcgpu.Result (see its doc for the arrays and their shapes).

    beta, g, eps: numbers or 1-d arrays; grid="product" runs every combination (beta fastest,
    then g, then eps, the CLI's sweep order), grid="zip" runs them side by side.
    model "tc" | "lz" | "do" | "heff"; N, channels, levels, method, precision, tol (default 1e-6,
    1e-4 in single precision), T, dt, max_halvings: as the CLI's options. threads: OpenMP
    threads (0: all cores, or OMP_NUM_THREADS).

    The GIL is released while the sweeps run. Ctrl-C (KeyboardInterrupt) stops the running
    sweeps within a few hundred steps and returns the finished ones, with
    result.record["interrupted"] = True and a warning. Bad arguments raise ValueError with the
    library's message."""
    if method not in _METHODS:
        raise ValueError(f"method: {method!r}; expected 'magnus4' or 'rk4'")
    if precision not in _PRECISIONS:
        raise ValueError(f"precision: {precision!r}; expected 'double' or 'single'")
    if not isinstance(model, str):
        raise ValueError(f"model: {model!r}; expected tc, lz, do or heff")
    tol = (1e-4 if precision == "single" else 1e-6) if tol is None else float(tol)
    gs, bs, es = _grid(beta, g, eps, grid)
    K = _integer("channels", channels)
    lv = None
    if levels is not None:
        lv = np.ascontiguousarray(levels, dtype=np.float64).reshape(-1)
        if lv.size != K:
            raise ValueError(f"levels: {lv.size} values; expected {K} (one per channel)")
    spec = _lib.ScanSpec(model=model.encode(), N=_integer("N", N), K=K, levels=ptr(lv),
                         sweeps=gs.size, g=ptr(gs), beta=ptr(bs), eps=ptr(es),
                         method=_METHODS[method], precision=_PRECISIONS[precision], tol=tol,
                         T=float(T), kappa=float(dt), max_halvings=_integer("max_halvings",
                                                                            max_halvings),
                         threads=_integer("threads", threads))
    dim, nk = _lib.c_int64(), _lib.c_int()
    check(_lib.scan_shape(spec, dim, nk))
    dim, nk, S = dim.value, nk.value, gs.size
    labels = np.empty((dim, {"lz": 1, "heff": 2}.get(model, K)), dtype=np.int32)
    Kl = _lib.c_int()
    check(_lib.scan_labels(spec, ptr(labels, _lib.c_int32), Kl))
    a = {"prob": np.zeros((S, dim)), "exact": np.zeros((S, dim)), "mean": np.zeros((S, nk))}
    for name in ("mean_n", "eta", "tv", "maxabs", "err_estimate", "T0", "Tr", "kappa",
                 "norm_error", "seconds"):
        a[name] = np.zeros(S)
    a["steps"], a["applications"] = np.zeros(S, np.int64), np.zeros(S, np.int64)
    done = np.zeros(S, np.uint8)
    out = _lib.ScanOut(done=ptr(done, _lib.c_ubyte),
                       **{k: ptr(v, _lib.c_int64 if v.dtype == np.int64 else _lib.c_double)
                          for k, v in a.items()})
    status, finished = {}, threading.Event()

    def work():  # on its own thread: the main thread stays free to take Ctrl-C
        try:
            status["rc"] = _lib.scan_run(spec, out)
            status["msg"] = _lib.last_error().decode(errors="replace")
        finally:
            finished.set()

    _lib.clear_stop()
    t0 = time.monotonic()
    threading.Thread(target=work, name="tcgpu.run", daemon=True).start()
    interrupted = False
    # An Event, not Thread.join: a join interrupted by KeyboardInterrupt may afterwards report
    # the thread finished while it still runs.
    while not finished.is_set():
        try:
            finished.wait(0.05)
        except KeyboardInterrupt:
            interrupted = True
            _lib.request_stop()  # a second Ctrl-C lands here again: the sweeps end soon
    wall = time.monotonic() - t0
    rc = status.get("rc", _lib.ERUNTIME)
    interrupted = interrupted or rc == _lib.EINTR
    if rc not in (_lib.OK, _lib.EINTR):
        check(rc, status.get("msg", "tcgpu.run: the sweeps did not finish"))
    keep = done.astype(bool)
    record = {
        "tool": "tcgpu", "interface": "python", "version": _lib.version().decode(),
        "git_commit": _lib.git_commit().decode(),
        "completed": not interrupted and bool(keep.all()), "interrupted": interrupted,
        "parameters": {"model": model, "N": spec.N, "channels": K,
                       "g": _values("g", g).tolist(), "beta": _values("beta", beta).tolist(),
                       "eps": _values("eps", eps).tolist(), "grid": grid,
                       **({"levels": lv.tolist()} if lv is not None else {})},
        "method": method, "precision": precision, "tolerance": tol, "backend": "cpu",
        "threads": spec.threads,
        "timings": {"wall_seconds": wall, "sweeps_total": S, "sweeps_done": int(keep.sum())},
    }
    if interrupted:
        warnings.warn(f"tcgpu.run: interrupted; {int(keep.sum())} of {S} sweeps finished and "
                      "returned", RuntimeWarning, stacklevel=2)
    arrays = {k: v[keep] for k, v in a.items()}
    return Result(sweep=np.flatnonzero(keep).astype(np.int64), g=gs[keep], beta=bs[keep],
                  eps=es[keep], basis=labels, record=record, **arrays)
