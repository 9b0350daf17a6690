"""How many Chebyshev nodes in s = 1/t the in-sector continuation's data need (prototype;
docs/numerics.md, eleventh session). Interpolates E_k - beta t S_k - D_k and the in-sector
A_km = h_km/(E_m - E_k) (eigenvector signs aligned with the frame at Tr) at M Chebyshev points
of [1/T2, 1/Tr] (barycentric formula) and prints the largest error over 40 random points.
Usage: far_field_nodes.py N eps beta Tr T2"""
import sys
import numpy as np
from far_field_blocks import model
from far_field_continuation import aligned, sectors_at

N, eps, beta = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
Tr, T2 = float(sys.argv[4]), float(sys.argv[5])
st, S, A, V, sec = model(N, 1.0, (-2 * eps, 2 * eps))
U0, lab, Sk, Dk, same, off = sectors_at(S, A, V, sec, beta, Tr)

def data(t):
    E, U, h = aligned(S, A, V, beta, t, U0)
    gap = E[None, :] - E[:, None]
    Akm = np.where(off, h / np.where(off, gap, 1), 0)
    return E - beta * t * Sk - Dk, Akm

a, b = (0.0 if T2 <= 0 else 1 / T2), 1 / Tr
rng = np.random.default_rng(1)
test_s = a + (b - a) * rng.random(40)
test_s = test_s[test_s > 1e-3]
exact_d = [data(1 / s) for s in test_s]
for M in (6, 8, 10, 12, 16, 20):
    th = (2 * np.arange(M) + 1) * np.pi / (2 * M)
    xs = np.cos(th)                       # Chebyshev points of the first kind on [-1, 1]
    ss = a + (b - a) * (xs + 1) / 2
    vals = [data(1 / s) for s in ss]
    w = (-1) ** np.arange(M) * np.sin(th)  # barycentric weights
    def interp(s):
        x = 2 * (s - a) / (b - a) - 1
        d = x - xs
        if np.any(d == 0):
            j = int(np.argmin(np.abs(d))); return vals[j]
        c = w / d; c /= c.sum()
        return (sum(ci * v[0] for ci, v in zip(c, vals)), sum(ci * v[1] for ci, v in zip(c, vals)))
    ee = max(np.max(np.abs(interp(s)[0] - d[0])) for s, d in zip(test_s, exact_d))
    ea = max(np.max(np.abs(interp(s)[1] - d[1])) for s, d in zip(test_s, exact_d))
    print(f"N {N} beta {beta} [{Tr}, {T2}] M {M:2d}: max err e {ee:.1e} (max |e| {max(np.max(np.abs(d[0])) for d in exact_d):.1e}), A {ea:.1e} (max |A| {max(np.max(np.abs(d[1])) for d in exact_d):.1e})", flush=True)
