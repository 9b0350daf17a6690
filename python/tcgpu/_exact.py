"""tcgpu.exact: the exact engine's tables (what `tcgpu exact` prints) as numpy arrays.

Every number comes from one library call per grid point (include/tcgpu/exact.h), so the values
are those of the CLI to the last bit."""
import numpy as np

from . import _lib
from ._lib import check, ptr

_WHATS = ("dist", "moments", "total", "critical", "phases")
_OFFERS = {"tc": _WHATS, "heff": ("dist", "moments"), "lz": ("dist",), "do": ("dist",)}


def _integer(name, v):
    try:
        i = int(v)
    except (TypeError, ValueError):
        raise ValueError(f"{name}: {v!r}; expected an integer") from None
    if i != v:
        raise ValueError(f"{name}: {v!r}; expected an integer")
    return i


def _levels(levels, K):
    if levels is None:
        return None
    lv = np.ascontiguousarray(levels, dtype=np.float64).reshape(-1)
    if lv.size != K:
        raise ValueError(f"levels: {lv.size} values; expected {K} (one energy per channel)")
    return lv


def _grid(g, beta):
    try:
        g, beta = np.broadcast_arrays(np.asarray(g, dtype=np.float64),
                                      np.asarray(beta, dtype=np.float64))
    except ValueError:
        raise ValueError(f"g and beta: shapes {np.shape(g)} and {np.shape(beta)} do not "
                         "broadcast together") from None
    return g, beta


def basis(N, channels=2):
    """The K-channel number basis: int32 array [dim, K], row i = (n1, ..., nK) of state i (the
    order of every distribution, n1 slowest)."""
    spec = _lib.ScanSpec(model=b"tc", N=_integer("N", N), K=_integer("channels", channels),
                         tol=1e-6)
    dim, nk = _lib.c_int64(), _lib.c_int()
    check(_lib.scan_shape(spec, dim, nk))
    labels = np.empty((dim.value, nk.value), dtype=np.int32)
    K = _lib.c_int()
    check(_lib.scan_labels(spec, ptr(labels, _lib.c_int32), K))
    return labels


def exact(model="tc", N=40, channels=2, g=1.0, beta=1.0, levels=None, what=None):
    """Exact final results of the solvable models, on the grid that g and beta broadcast to
    (shape S; scalars give S = ()).

    model: "tc" (Tavis-Cummings, N molecules, K = channels), "heff" (eq 72, sector of N pairs),
    "lz" (Landau-Zener), "do" (Demkov-Osherov, K = channels parallel levels).
    levels: the K pair (do: level) energies in your numbering; None: channel k has the k-th
    lowest energy. what (default "moments" for tc and heff, "dist" for lz and do):

    - "dist": float64 [*S, dim], the final distribution. tc: basis order (tcgpu.basis(N, K));
      heff: index n1 = 0..N (n2 = N - n1); lz: [stay, leave]; do: level 0 (sloped), 1..K.
    - "total" (tc): float64 [*S, N + 1], P_n of n = n1 + ... + nK pairs.
    - "moments" (tc, heff): dict of "mean" [*S, K] (<n_k>), "mean_n" [*S], and for K = 2 "eta"
      [*S] ((<n1> - <n2>)/<n>).
    - "critical" (tc): dict of "beta_c" and "beta_c_asymptotic" (eq 50), shaped like g; beta
      is not used.
    - "phases" (tc, K = 1): dict of "prob" and "phase" [*S, N + 1] (eq 58 corrected).

    Bad arguments raise ValueError with the library's message."""
    if model not in _OFFERS:
        raise ValueError(f"model: unknown model {model!r}; expected lz, do, tc or heff")
    if what is None:
        what = "moments" if model in ("tc", "heff") else "dist"
    if what not in _WHATS:
        raise ValueError(f"what: unknown table {what!r}; expected one of {', '.join(_WHATS)}")
    if what not in _OFFERS[model]:
        raise ValueError(f"what={what!r} is not available for model {model!r} "
                         "(lz and do: dist; heff: dist, moments)")
    N = _integer("N", N)
    K = {"lz": 1, "heff": 2}.get(model, _integer("channels", channels))
    if model == "tc" and what == "phases" and K != 1:
        raise ValueError(f"what='phases': eq 58 gives the phases of one channel; expected "
                         f"channels=1, got {K}")
    lv = _levels(levels, K) if model in ("tc", "do") else None
    if levels is not None and lv is None:
        raise ValueError(f"levels do not apply to model {model!r}")
    if what == "critical":
        gg = np.asarray(g, dtype=np.float64)
        bc, ba = np.empty(gg.shape), np.empty(gg.shape)
        for i, gi in np.ndenumerate(gg):
            out = _lib.c_double()
            check(_lib.exact_beta_c(N, gi, out))
            bc[i], ba[i] = out.value, _lib.asym_beta_c_eq50(N, gi)
        return {"beta_c": bc, "beta_c_asymptotic": ba}
    gs, bs = _grid(g, beta)
    return _TABLES[what](model, N, K, gs, bs, lv)


def _size(model, N, K):
    if model == "tc":
        d = _lib.basis_dim(N, K)
        if d < 0 or K < 1:
            raise ValueError(f"N = {N} with {K} channels: expected N >= 0 and channels >= 1 "
                             "with fewer than 2^63 states")
        return d
    return {"lz": 2, "do": K + 1, "heff": N + 1}[model]


def _dist(model, N, K, gs, bs, lv):
    if N < 0 and model in ("tc", "heff"):
        raise ValueError(f"N: {N} is negative; expected a number >= 0")
    if model == "do" and not 1 <= K <= _lib.MAX_CHANNELS:
        raise ValueError(f"channels: {K}; expected 1 to {_lib.MAX_CHANNELS}")
    out = np.empty(gs.shape + (_size(model, N, K),))
    for i, g in np.ndenumerate(gs):
        b, p = bs[i], out[i]
        if model == "tc":
            check(_lib.exact_tc_joint(N, K, g, b, ptr(lv), ptr(p)))
        elif model == "lz":
            check(_lib.exact_lz(g, b, ptr(p)))
        elif model == "do":
            check(_lib.exact_do(K, g, b, ptr(lv), ptr(p)))
        else:  # library order n2 = 0..N; the basis (and tcgpu run) order is n1 = 0..N
            check(_lib.exact_heff(N, g, b, ptr(p)))
            p[:] = p[::-1].copy()
    return out


def _total(model, N, K, gs, bs, lv):
    if N < 0:
        raise ValueError(f"N: {N} is negative; expected a number of molecules >= 0")
    out = np.empty(gs.shape + (N + 1,))
    for i, g in np.ndenumerate(gs):
        check(_lib.exact_tc_total(N, K, g, bs[i], ptr(out[i])))
    return out


def _moments(model, N, K, gs, bs, lv):
    mean, mean_n = np.empty(gs.shape + (K,)), np.empty(gs.shape)
    eta = np.empty(gs.shape) if K == 2 else None
    m = _lib.TcMoments()
    for i, g in np.ndenumerate(gs):
        if model == "heff":  # as `tcgpu exact --model heff --what moments`
            n2 = _lib.c_double()
            check(_lib.exact_heff_mean_n2(N, g, bs[i], n2))
            mean[i] = (float(N) - n2.value, n2.value)
            mean_n[i] = float(N)
            eta[i] = (mean[i][0] - n2.value) / float(N) if N > 0 else 0.0
            continue
        check(_lib.exact_tc_moments(N, K, g, bs[i], ptr(lv), m))
        mean[i] = m.mean[:K]
        mean_n[i] = m.mean_n
        if eta is not None:
            eta[i] = m.eta
    out = {"mean": mean, "mean_n": mean_n}
    if eta is not None:
        out["eta"] = eta
    return out


def _phases(model, N, K, gs, bs, lv):
    if N < 0:
        raise ValueError(f"N: {N} is negative; expected a number of molecules >= 0")
    prob, phase = np.empty(gs.shape + (N + 1,)), np.empty(gs.shape + (N + 1,))
    for i, g in np.ndenumerate(gs):
        check(_lib.exact_tc_single(N, g, bs[i], ptr(prob[i])))
        check(_lib.exact_phases(N, g, bs[i], ptr(phase[i])))
    return {"prob": prob, "phase": phase}


_TABLES = {"dist": _dist, "total": _total, "moments": _moments, "phases": _phases}
