"""tcgpu.Result: what tcgpu.run returns and tcgpu.load reads back."""
import numpy as np

_SHAPES = """    S finished sweeps, dim states, nk means per sweep:
    sweep         int64   [S]        index in the grid (the CLI's sweep column)
    g, beta, eps  float64 [S]        the sweep's parameters
    prob          float64 [S, dim]   simulated final distribution, in basis order
    exact         float64 [S, dim]   the exact engine's distribution
    basis         int32   [dim, K]   occupation numbers of each state (lz, do: [dim, 1], level)
    mean          float64 [S, nk]    <n_k> (lz, do: probability of parallel level k)
    mean_n, eta   float64 [S]        <n>, (<n1> - <n2>)/<n> (0 unless nk = 2)
    tv, maxabs    float64 [S]        total-variation and max-abs distance from exact
    err_estimate  float64 [S]        the accuracy control's estimate of tv
    T0, Tr, kappa float64 [S]        window start and end times, step parameter
    norm_error, seconds  float64 [S]
    steps, applications  int64 [S]
    record        dict               the run record (tcgpu.load: run.json as it is)"""

FIELDS = ("sweep", "g", "beta", "eps", "prob", "exact", "basis", "mean", "mean_n", "eta", "tv",
          "maxabs", "err_estimate", "T0", "Tr", "kappa", "norm_error", "seconds", "steps",
          "applications", "record")


class Result:
    __doc__ = "Arrays of a run's finished sweeps, row i = sweep i of the run:\n\n" + _SHAPES

    def __init__(self, **fields):
        missing = set(FIELDS) - set(fields)
        if missing:
            raise TypeError(f"Result: missing {sorted(missing)}")
        self.__dict__.update(fields)

    def __len__(self):
        return len(self.sweep)

    def __repr__(self):
        p = self.record.get("parameters", {})
        return (f"<tcgpu.Result {p.get('model', '?')} N={p.get('N', '?')}: {len(self)} of "
                f"{self.record.get('timings', {}).get('sweeps_total', '?')} sweeps, "
                f"{self.prob.shape[1]} states, max TV {np.max(self.tv, initial=0):.2g}>")
