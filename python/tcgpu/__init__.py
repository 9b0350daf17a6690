"""tcgpu from Python: exact and simulated sweeps through the solvable multistate Landau-Zener
models (driven Tavis-Cummings), numpy in, numpy out, over the shared library libtcgpu.

    tcgpu.exact(model, N, channels, g, beta, levels, what)  the exact engine's tables
    tcgpu.run(beta, g, eps, model, N, channels, ...)        simulated sweeps (tcgpu run)
    tcgpu.load(DIR)                                         a `tcgpu run` folder
    tcgpu.basis(N, channels)                                the number basis of the tables

See docs/python.md."""
from ._exact import basis, exact
from ._lib import git_commit as _git_commit
from ._lib import version as _version
from ._load import load
from ._result import Result
from ._run import run

__version__ = _version().decode()
__git_commit__ = _git_commit().decode()
__all__ = ["basis", "exact", "load", "run", "Result"]
