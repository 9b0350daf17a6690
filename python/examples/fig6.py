"""The paper's Fig 6 from Python: <n2> and eta against the sweep rate, exact at the paper's
N = 1e5 and simulated beside the exact curves at N = 8 (docs/python.md walks through it).
Run: .venv/bin/python python/examples/fig6.py [OUT.png]  (matplotlib optional)."""
import sys
import time

import numpy as np

import tcgpu

# 1. The exact engine at the paper's N = 1e5, g = 1, two channels: instant.
N, g = 100_000, 1.0
X = np.geomspace(0.01, 100, 200)             # N g^2 / (beta ln N), Fig 6's axis
beta = N * g**2 / (X * np.log(N))
m = tcgpu.exact("tc", N=N, channels=2, g=g, beta=beta, what="moments")
n2_over_N, eta = m["mean"][:, 1] / N, m["eta"]
print(f"N = 1e5: <n2>/N from {n2_over_N.min():.3g} to {n2_over_N.max():.3g} (largest at "
      f"X = {X[n2_over_N.argmax()]:.3g}), eta from {eta.min():.3f} to {eta.max():.3f}")

# 2. Simulated sweeps at small N, each to TV 1e-6 against the exact distribution.
Ns = 8
bs = np.geomspace(0.1, 60, 12)               # 12 sweep rates, log-spaced
t0 = time.monotonic()
r = tcgpu.run(bs, N=Ns, channels=2, g=g, eps=0.25, tol=1e-6)
print(f"N = {Ns}: {len(r)} sweeps in {time.monotonic() - t0:.1f} s, "
      f"max TV vs exact {r.tv.max():.2g} (estimated {r.err_estimate.max():.2g})")
bf = np.geomspace(bs[0], bs[-1], 200)        # the exact curves at the same N
ms = tcgpu.exact("tc", N=Ns, channels=2, g=g, beta=bf, what="moments")
Xs, Xf = Ns * g**2 / (r.beta * np.log(Ns)), Ns * g**2 / (bf * np.log(Ns))
ex = tcgpu.exact("tc", N=Ns, channels=2, g=g, beta=r.beta, what="moments")
print(f"max |<n2> sim - exact| = {np.abs(r.mean[:, 1] - ex['mean'][:, 1]).max():.2g}, "
      f"max |eta sim - exact| = {np.abs(r.eta - ex['eta']).max():.2g}")
print(" beta      X      <n2> sim     <n2> exact   eta sim      eta exact")
for row in zip(r.beta, Xs, r.mean[:, 1], ex["mean"][:, 1], r.eta, ex["eta"]):
    print(" %-8.3g %-6.3g %-12.8f %-12.8f %-12.8f %-12.8f" % row)

# 3. The figure (matplotlib, if installed: python3-matplotlib on Debian).
try:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    sys.exit("no matplotlib: the numbers above are the figure's")
fig, ax = plt.subplots(2, 1, figsize=(7, 7), sharex=True)
ax[0].loglog(X, n2_over_N, "k-", label="exact, N = 1e5 (the paper's Fig 6)")
ax[0].loglog(Xf, ms["mean"][:, 1] / Ns, "C0-", label=f"exact, N = {Ns}")
ax[0].loglog(Xs, r.mean[:, 1] / Ns, "C0o", mfc="none", label=f"simulated, N = {Ns}")
ax[0].set_ylabel(r"$\langle n_2\rangle / N$")
ax[1].semilogx(X, eta, "k-")
ax[1].semilogx(Xf, ms["eta"], "C0-")
ax[1].semilogx(Xs, r.eta, "C0o", mfc="none")
ax[1].set_ylabel(r"$\eta$")
ax[1].set_xlabel(r"$N g^2 / (\beta \ln N)$")
ax[0].legend()
fig.tight_layout()
out = sys.argv[1] if len(sys.argv) > 1 else "fig6.png"
fig.savefig(out, dpi=90)
print("wrote", out)
