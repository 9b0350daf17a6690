"""In-sector continuation of the far field (prototype; docs/numerics.md, eleventh session; issue 15).

tc K = 2. Past the transition the readout's residual lies inside the sectors of fixed
n = n1 + n2 (docs/numerics.md, third session): the sector sums settle early, the in-sector
distribution keeps moving under couplings ~1/(beta t) against gaps ~2 eps. Here the full march
stops at Tr; the state is written in H(Tr)'s eigenbasis, the first-order inter-sector dressing
(the part of each eigenvector's amplitude that follows the neighbouring sectors adiabatically)
is taken off, and only the in-sector couplings of the adiabatic basis, A_km = <k|dm/dt> =
h_km/(E_m - E_k) (h = U^T dH/dt U, k and m in one sector), carry the amplitudes on to T2, in
the interaction picture of the diabatic energies beta t^2 (N - n)/2 + D_k t. The inter-sector
couplings, whose phases turn like beta t, are dropped: their effect beyond the dressing falls
fast with Tr. That march resolves the in-sector frequencies (~eps n) only, not the chirp
beta t, so its steps do not grow like beta T^2.

Printed per Tr: (a) the continuation's own error, TV between the |amplitude|^2 at T2 of the
continuation and of the full march to T2 (same inter-sector dressing at T2); (b) with --exact
T2b: TV against eq 61 of the continuation to T2b read with the first-order in-sector dressing.
Frames are dense numpy eigen-decompositions at every evaluation (a product would interpolate
them in s = 1/t). Usage: far_field_continuation.py N eps beta Tr1,Tr2,... T2 T0 [T2b]"""
import sys
import numpy as np
from scipy.integrate import solve_ivp

from far_field_blocks import exact, march, model


def frame(S, A, V, beta, t):
    E, U = np.linalg.eigh(np.diag(beta * t * S + A) + V)
    return E, U, U.T @ (beta * S[:, None] * U)


def labels(U, A, sec):
    """Each eigenvector's sector (largest weight) and diabatic state (energy rank in sector)."""
    n = U.shape[1]
    own = np.array([np.argmax(np.bincount(sec, weights=U[:, k] ** 2)) for k in range(n)])
    lab = np.zeros(n, int)
    for s in np.unique(sec):
        ks = np.where(own == s)[0]
        ds = np.where(sec == s)[0]
        if len(ks) != len(ds):
            raise ValueError("sectors not separated yet")
        lab[ks] = ds[np.argsort(A[ds], kind="stable")]
    return own, lab


def sectors_at(S, A, V, sec, beta, Tr):
    """The frame at Tr, each eigenvector's diabatic label and energies, and the pair masks."""
    E0, U0, h0 = frame(S, A, V, beta, Tr)
    own, lab = labels(U0, A, sec)
    same = own[:, None] == own[None, :]
    return U0, lab, S[lab], A[lab], same, same & ~np.eye(len(E0), dtype=bool)


def aligned(S, A, V, beta, t, U0):
    """The frame at t, eigenvector signs aligned with U0's."""
    E, U, h = frame(S, A, V, beta, t)
    sg = np.sign(np.sum(U * U0, axis=0))
    return E, U * sg, h * sg[:, None] * sg[None, :]


def amat(E, h):
    """First-order admixtures a[m, k] = h_mk / (E_k - E_m)^2."""
    G = E[None, :] - E[:, None]
    return np.where(np.eye(len(E), dtype=bool), 0, h / np.where(G == 0, 1, G) ** 2)


def dress(c, a, mask):
    am = np.where(mask, a, 0)
    return (c + 1j * (am.T @ c)) / np.sqrt(1 + np.sum(am**2, axis=0))


def continuation(S, A, V, sec, beta, psi, Tr, T2, rtol=1e-10):
    E0, U0, h0 = frame(S, A, V, beta, Tr)
    own, lab = labels(U0, A, sec)
    Sk, Dk = S[lab], A[lab]
    same = own[:, None] == own[None, :]
    off = same & ~np.eye(len(E0), dtype=bool)

    def fr(t):  # signs aligned with the frame at Tr
        E, U, h = frame(S, A, V, beta, t)
        sg = np.sign(np.sum(U * U0, axis=0))
        return E, U * sg, h * sg[:, None] * sg[None, :]

    theta = lambda t: 0.5 * beta * t * t * Sk + Dk * t

    def f(t, b):
        E, U, h = fr(t)
        gap = E[None, :] - E[:, None]  # [k, m] = E_m - E_k
        Akm = np.where(off, h / np.where(off, gap, 1), 0)
        ph = np.exp(1j * (theta(t)[:, None] - theta(t)[None, :]))
        return -1j * (E - beta * t * Sk - Dk) * b - (Akm * ph) @ b

    d0 = dress(U0.T @ psi, amat(E0, h0), ~same)
    r = solve_ivp(f, (Tr, T2), d0 * np.exp(1j * theta(Tr)), method="DOP853", rtol=rtol, atol=1e-13)
    return r.y[:, -1] * np.exp(-1j * theta(T2)), fr(T2), same, lab, r.nfev


def main():
    N, eps, beta = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
    Trs = [float(x) for x in sys.argv[4].split(",")]
    T2, T0 = float(sys.argv[5]), float(sys.argv[6])
    T2b = float(sys.argv[7]) if len(sys.argv) > 7 else None
    st, S, A, V, sec = model(N, 1.0, (-2 * eps, 2 * eps))
    P = exact(N, 1.0, beta, st)
    E, U, h = frame(S, A, V, beta, -T0)
    k = np.argmax(np.abs(U[0, :]))  # first-order dressed start
    psi = U[:, k] - 1j * (U @ amat(E, h)[:, k])
    psi /= np.linalg.norm(psi)
    psis, t = {}, -T0
    for T in sorted(set(Trs + [T2])):
        psi, _ = march(S, A, V, beta, psi, t, T)
        psis[T], t = psi, T
    for Tr in Trs:
        d2, (E2, U2, h2), same, lab, nfev = continuation(S, A, V, sec, beta, psis[Tr], Tr, T2)
        dref = dress(U2.T @ psis[T2], amat(E2, h2), ~same)
        line = (f"N {N} eps {eps} beta {beta} Tr {Tr:6.2f} -> T2 {T2:g}: continuation error "
                f"{0.5 * np.abs(np.abs(d2)**2 - np.abs(dref)**2).sum():.2e} ({nfev} evaluations)")
        if T2b:
            db, (Eb, Ub, hb), same, lab, _ = continuation(S, A, V, sec, beta, psis[Tr], Tr, T2b)
            p = np.zeros(len(P))
            p[lab] = np.abs(dress(db, amat(Eb, hb), same)) ** 2
            line += f"; to {T2b:g}, in-sector readout: TV {0.5 * np.abs(p - P).sum():.2e}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
