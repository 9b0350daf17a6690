"""libtcgpu through ctypes: loading, prototypes, and status codes turned into exceptions.

ctypes.CDLL releases the GIL around every foreign call, so other Python threads run while a
scan computes."""
import ctypes
import os
from ctypes import POINTER, c_char_p, c_double, c_int, c_int32, c_int64, c_size_t, c_ubyte
from pathlib import Path

OK, EINVAL, ENOMEM, ERUNTIME, EINTR = 0, 1, 2, 3, 4
MAX_CHANNELS = 64


def _load():
    path = os.environ.get("TCGPU_LIB") or str(Path(__file__).with_name("libtcgpu.so"))
    try:
        return ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(f"tcgpu: cannot load {path} ({e}); build tcgpu (scripts/bootstrap) "
                          "and install this module with scripts/python-env, or set TCGPU_LIB "
                          "to a built libtcgpu.so") from e


lib = _load()

_dp = POINTER(c_double)
_ip = POINTER(c_int64)


class ScanSpec(ctypes.Structure):
    """tcgpu_scan_spec (include/tcgpu/scan.h)."""

    _fields_ = [("model", c_char_p), ("N", c_int64), ("K", c_int), ("levels", _dp),
                ("sweeps", c_size_t), ("g", _dp), ("beta", _dp), ("eps", _dp),
                ("method", c_int), ("precision", c_int), ("tol", c_double), ("T", c_double),
                ("kappa", c_double), ("max_halvings", c_int), ("threads", c_int)]


class ScanOut(ctypes.Structure):
    """tcgpu_scan_out (include/tcgpu/scan.h)."""

    _fields_ = [("prob", _dp), ("exact", _dp), ("mean", _dp), ("mean_n", _dp), ("eta", _dp),
                ("tv", _dp), ("maxabs", _dp), ("err_estimate", _dp), ("T0", _dp), ("Tr", _dp),
                ("kappa", _dp), ("norm_error", _dp), ("seconds", _dp), ("steps", _ip),
                ("applications", _ip), ("done", POINTER(c_ubyte))]


class TcMoments(ctypes.Structure):
    """tcgpu_tc_moments (include/tcgpu/exact.h)."""

    _fields_ = [("mean", c_double * MAX_CHANNELS), ("mean_n", c_double), ("eta", c_double),
                ("nu", c_double), ("nu_plus", c_double)]


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype = restype
    f.argtypes = list(argtypes)
    return f


last_error = _proto("tcgpu_last_error", c_char_p)
request_stop = _proto("tcgpu_request_stop", None)
clear_stop = _proto("tcgpu_clear_stop", None)
version = _proto("tcgpu_version", c_char_p)
git_commit = _proto("tcgpu_git_commit", c_char_p)

scan_shape = _proto("tcgpu_scan_shape", c_int, POINTER(ScanSpec), _ip, POINTER(c_int))
scan_labels = _proto("tcgpu_scan_labels", c_int, POINTER(ScanSpec), POINTER(c_int32),
                     POINTER(c_int))
scan_run = _proto("tcgpu_scan_run", c_int, POINTER(ScanSpec), POINTER(ScanOut))

exact_lz = _proto("tcgpu_exact_lz", c_int, c_double, c_double, _dp)
exact_do = _proto("tcgpu_exact_do", c_int, c_int, c_double, c_double, _dp, _dp)
exact_tc_joint = _proto("tcgpu_exact_tc_joint", c_int, c_int64, c_int, c_double, c_double, _dp,
                        _dp)
exact_tc_total = _proto("tcgpu_exact_tc_total", c_int, c_int64, c_int, c_double, c_double, _dp)
exact_tc_moments = _proto("tcgpu_exact_tc_moments", c_int, c_int64, c_int, c_double, c_double,
                          _dp, POINTER(TcMoments))
exact_heff = _proto("tcgpu_exact_heff", c_int, c_int64, c_double, c_double, _dp)
exact_heff_mean_n2 = _proto("tcgpu_exact_heff_mean_n2", c_int, c_int64, c_double, c_double, _dp)
exact_beta_c = _proto("tcgpu_exact_beta_c", c_int, c_int64, c_double, _dp)
asym_beta_c_eq50 = _proto("tcgpu_asym_beta_c_eq50", c_double, c_int64, c_double)
exact_phases = _proto("tcgpu_exact_phases", c_int, c_int64, c_double, c_double, _dp)
exact_tc_single = _proto("tcgpu_exact_tc_single", c_int, c_int64, c_double, c_double, _dp)
basis_dim = _proto("tcgpu_basis_dim", c_int64, c_int64, c_int)


def check(status, message=None):
    """Raises the exception for a failed library call, with the library's own message (read on
    the calling thread: messages are per thread)."""
    if status == OK:
        return
    msg = message if message is not None else last_error().decode(errors="replace")
    if status in (EINVAL, ENOMEM):
        raise ValueError(msg)
    if status == EINTR:
        raise KeyboardInterrupt(msg)
    raise RuntimeError(msg)


def ptr(a, ctype=c_double):
    """A pointer to a C-contiguous numpy array's data (None for None)."""
    if a is None:
        return None
    return a.ctypes.data_as(POINTER(ctype))
