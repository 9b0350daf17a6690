"""Far-field prototype (docs/numerics.md, seventh session; issue 15, readout at infinity): tc K = 2. Full march (interaction picture, DOP853) from -T0 to T1,
then either (a) the full march to T2 and an adiabatic readout, or (b) the block-adiabatic
(BA) march: sector frames B_n(t) (direct rotation of the diabatic sector onto H(t)'s invariant
subspace), the inter-sector part of -i B^+ dB/dt dropped, each sector's slow block
h_n = B_n^+ (H - beta t (N-n)) B_n - i B_n^+ dB_n/dt marched to T2, read by h_n(T2)'s
eigenvectors. TV against eq 61."""
import sys, time
import numpy as np
from scipy.integrate import solve_ivp

def model(N, g, e):
    st = [(n1, n2) for n in range(N + 1) for n1 in range(n, -1, -1) for n2 in [n - n1]]
    idx = {s: i for i, s in enumerate(st)}
    D = len(st)
    S = np.array([N - (a + b) for a, b in st], float)  # slope / beta
    A = np.array([e[0] * a + e[1] * b for a, b in st], float)
    V = np.zeros((D, D))
    for (a, b), i in idx.items():
        n = a + b
        if a > 0:
            j = idx[(a - 1, b)]
            V[i, j] = V[j, i] = g * a * np.sqrt(N - n + 1)
        if b > 0:
            j = idx[(a, b - 1)]
            V[i, j] = V[j, i] = g * b * np.sqrt(N - n + 1)
    sec = np.array([a + b for a, b in st])
    return st, S, A, V, sec

def exact(N, g, beta, st):
    x = np.exp(-2 * np.pi * g * g / beta)
    def qp(a, q):
        return np.prod([1 - a * x ** k for k in range(q)])
    def p1(m, M):
        return x ** (M - m) * qp(x ** (M - m + 1), m)
    return np.array([p1(a, N) * p1(b, N - a) for a, b in st])

def march(S, A, V, beta, psi, t0, t1, rtol=1e-12):
    """Interaction picture w.r.t. the diagonal: phase phi(t) = beta t^2/2 S + A t."""
    phi = lambda t: 0.5 * beta * t * t * S + A * t
    c0 = psi * np.exp(1j * phi(t0))
    def f(t, c):
        p = np.exp(1j * phi(t))
        return -1j * p * (V @ (np.conj(p) * c))
    r = solve_ivp(f, (t0, t1), c0, method="DOP853", rtol=rtol, atol=1e-14)
    return r.y[:, -1] * np.exp(-1j * phi(t1)), r.nfev

def H(S, A, V, beta, t):
    return np.diag(beta * t * S + A) + V

def start(S, A, V, beta, T0, start_idx=0):
    w, U = np.linalg.eigh(H(S, A, V, beta, -T0))
    # the eigenvector that becomes the start state: the lowest at t -> -inf (largest slope)
    k = np.argmax(np.abs(U[start_idx, :]))
    return U[:, k].astype(complex)

def frames(S, A, V, sec, beta, t):
    """B_n(t): direct rotation of sector n's diabatic basis onto its invariant subspace."""
    h = H(S, A, V, beta, t)
    w, U = np.linalg.eigh(h)
    owner = np.array([np.argmax(np.bincount(sec, weights=U[:, k] ** 2)) for k in range(len(w))])
    B = np.zeros_like(U)
    for n in np.unique(sec):
        Q = U[:, owner == n]
        E = np.eye(len(S))[:, sec == n]
        X = Q @ (Q.T @ E)
        s, v = np.linalg.eigh(X.T @ X)
        B[:, sec == n] = X @ (v @ np.diag(s ** -0.5) @ v.T)
    return B

def blocks(S, A, V, sec, beta, t, dt=1e-4):
    """h(t) restricted to within-sector blocks: B^+ (H - beta t S) B - i B^+ dB/dt."""
    B = frames(S, A, V, sec, beta, t)
    Bp = frames(S, A, V, sec, beta, t + dt * t)
    Bm = frames(S, A, V, sec, beta, t - dt * t)
    dB = (Bp - Bm) / (2 * dt * t)
    # B^T H B less each sector's beta t (N - n): B^T (A + V) B + beta t (B^T S B - S)
    M = B.T @ (np.diag(A) + V) @ B + beta * t * (B.T @ np.diag(S) @ B - np.diag(S))
    M = M - 1j * (B.T @ dB)
    same = sec[:, None] == sec[None, :]
    return np.where(same, M, 0), np.where(~same, M, 0), B

def block_march(S, A, V, sec, beta, b1, T1, T2, rtol=1e-10):
    nev = [0]
    def f(t, b):
        nev[0] += 1
        hb, _, _ = blocks(S, A, V, sec, beta, t)
        return -1j * (hb @ b)
    r = solve_ivp(f, (T1, T2), b1, method="DOP853", rtol=rtol, atol=1e-13)
    return r.y[:, -1], nev[0], len(r.t)

def block_read(S, A, V, sec, beta, b, T2):
    hb, _, _ = blocks(S, A, V, sec, beta, T2)
    p = np.zeros(len(b))
    for n in np.unique(sec):
        m = sec == n
        w, u = np.linalg.eigh(hb[np.ix_(m, m)])
        amp = u.conj().T @ b[m]
        own = np.argmax(np.abs(u), axis=0)  # diabatic state each eigenvector becomes
        pm = np.zeros(m.sum())
        pm[own] = np.abs(amp) ** 2
        p[m] = pm
    return p

def run_ba1(N, beta, T0, T1s, T2, order1=True):
    g = 1.0
    st, S, A, V, sec = model(N, g, (-1.0, 1.0))
    P = exact(N, g, beta, st)
    psi0 = start(S, A, V, beta, T0)
    for T1 in T1s:
        psi1, nf1 = march(S, A, V, beta, psi0, -T0, T1)
        hb, ho, B = blocks(S, A, V, sec, beta, T1)
        b1 = B.T @ psi1
        out = []
        for corr in ([False, True] if order1 else [False]):
            b = b1.copy()
            if corr:
                E = np.real(np.diag(hb)) + beta * T1 * S
                den = E[:, None] - E[None, :]
                same = sec[:, None] == sec[None, :]
                Xc = np.where(same, 0, ho / np.where(same, 1, den))
                b = b1 + Xc @ b1
            t = time.time()
            b2, nev, nst = block_march(S, A, V, sec, beta, b, T1, T2)
            p = block_read(S, A, V, sec, beta, b2, T2)
            out.append(0.5 * np.sum(np.abs(p - P)))
        print(f"N {N} beta {beta} T1 {T1:6.2f} T2 {T2}: TV order 0 {out[0]:.2e}, order 1 {out[-1]:.2e} "
              f"(block steps {nst}; full march to T1 {nf1} evals)", flush=True)


if __name__ == "__main__":
    # N = 6, beta = 100, eps = 0.5: the table of docs/numerics.md (about 10 minutes)
    run_ba1(6, 100.0, 10.0, [1.0, 1.5, 2.0, 3.0], 30.0)
    run_ba1(6, 100.0, 20.0, [2.0], 100.0)
