"""Step counts of a fourth-order Magnus integrator for the in-sector continuation (prototype;
docs/numerics.md, eleventh session): per sector block, Schroedinger picture,
K = diag(E - beta t S) - i A(t) (A real antisymmetric, K Hermitian), two Gauss points and the
commutator term, exact exponentials; against the DOP853 continuation at rtol 1e-12.
Usage: far_field_magnus.py N eps beta Tr T2 T0"""
import sys
import numpy as np
from scipy.linalg import expm
from far_field_blocks import model, march
from far_field_continuation import frame, labels, amat, dress, continuation

N, eps, beta, Tr, T2, T0 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
st, S, A, V, sec = model(N, 1.0, (-2 * eps, 2 * eps))
E, U, h = frame(S, A, V, beta, -T0)
k = np.argmax(np.abs(U[0, :])); psi = U[:, k] - 1j * (U @ amat(E, h)[:, k]); psi /= np.linalg.norm(psi)
psi, _ = march(S, A, V, beta, psi, -T0, Tr)
# reference: DOP853 continuation
dref, fr2, same, lab, nfev = continuation(S, A, V, sec, beta, psi, Tr, T2, rtol=1e-12)
E0, U0, h0 = frame(S, A, V, beta, Tr)
own, lab = labels(U0, A, sec)
Sk, Dk = S[lab], A[lab]
same = own[:, None] == own[None, :]
off = same & ~np.eye(len(E0), dtype=bool)
def K(t):
    E, U, hh = frame(S, A, V, beta, t)
    sg = np.sign(np.sum(U * U0, axis=0)); hh = hh * sg[:, None] * sg[None, :]
    gap = E[None, :] - E[:, None]
    Akm = np.where(off, hh / np.where(off, gap, 1), 0)
    return np.diag(E - beta * t * Sk) - 1j * Akm     # block diagonal by sector (A only in-sector)
d0 = dress(U0.T @ psi, amat(E0, h0), ~same)
# the reference evolves b = e^{i theta} d with theta = beta t^2 S/2 + D t; here d itself, with
# the common beta t^2 S/2 phase per sector removed -> compare |d|^2 and relative phases via |.|^2
for steps in (20, 40, 80, 160, 320):
    hs = (T2 - Tr) / steps
    d = d0.copy(); t = Tr
    c3 = np.sqrt(3) / 6
    for j in range(steps):
        K1, K2 = K(t + (0.5 - c3) * hs), K(t + (0.5 + c3) * hs)
        Om = -1j * hs / 2 * (K1 + K2) - np.sqrt(3) / 12 * hs * hs * (K2 @ K1 - K1 @ K2)
        d = expm(Om) @ d
        t += hs
    # phases: reference dref = d(T2) in the Schrodinger picture with E - beta t S? continuation()
    # returns r.y * exp(-i theta(T2)) where theta includes beta t^2 S/2; ours lacks the
    # beta (T2^2 - Tr^2) S/2 phase per sector: a phase per sector, invisible in |d|^2 and in
    # the in-sector dressing at T2.
    ph = np.exp(-1j * 0.5 * beta * (T2**2 - Tr**2) * Sk)
    err = np.max(np.abs(d * ph - dref))
    print(f"Magnus-4, {steps} steps (h {hs:.3f}, h*max|D| {hs*np.max(np.abs(Dk)):.2f}): max |d - d_ref| {err:.1e}, TV(|d|^2) {0.5*np.abs(np.abs(d)**2-np.abs(dref)**2).sum():.1e}", flush=True)
