"""Step counts of a fourth-order Magnus integrator for the in-sector continuation (prototype;
docs/numerics.md, eleventh session): per sector block, Schroedinger picture,
K = diag(E - beta t S) - i A(t) (A real antisymmetric, K Hermitian), two Gauss points and the
commutator term, exact exponentials; against the DOP853 continuation at rtol 1e-12.
Usage: far_field_magnus.py N eps beta Tr T2 T0 [log]  (log: steps h = eta t, eta = 0.4 ... 0.05)"""
import sys
import numpy as np
from scipy.linalg import expm
from far_field_blocks import model, march
from far_field_continuation import aligned, amat, continuation, dress, frame, sectors_at

N, eps, beta, Tr, T2, T0 = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]), float(sys.argv[6])
st, S, A, V, sec = model(N, 1.0, (-2 * eps, 2 * eps))
E, U, h = frame(S, A, V, beta, -T0)
k = np.argmax(np.abs(U[0, :])); psi = U[:, k] - 1j * (U @ amat(E, h)[:, k]); psi /= np.linalg.norm(psi)
psi, _ = march(S, A, V, beta, psi, -T0, Tr)
# reference: DOP853 continuation
dref, fr2, same, lab, nfev = continuation(S, A, V, sec, beta, psi, Tr, T2, rtol=1e-12)
E0, U0, h0 = frame(S, A, V, beta, Tr)
U0, lab, Sk, Dk, same, off = sectors_at(S, A, V, sec, beta, Tr)
def K(t):
    E, U, hh = aligned(S, A, V, beta, t, U0)
    gap = E[None, :] - E[:, None]
    Akm = np.where(off, hh / np.where(off, gap, 1), 0)
    return np.diag(E - beta * t * Sk) - 1j * Akm     # block diagonal by sector (A only in-sector)
d0 = dress(U0.T @ psi, amat(E0, h0), ~same)
# the reference evolves b = e^{i theta} d with theta = beta t^2 S/2 + D t; here d itself, with
# the common beta t^2 S/2 phase per sector removed -> compare |d|^2 and relative phases via |.|^2
c3 = np.sqrt(3) / 6
logsteps = len(sys.argv) > 7 and sys.argv[7] == "log"
for steps, eta in ((20, 0.4), (40, 0.2), (80, 0.1), (160, 0.05), (320, 0.025)):
    ts = [Tr]
    while ts[-1] < T2 - 1e-12:
        ts.append(min(T2, ts[-1] * (1 + eta)) if logsteps else Tr + len(ts) * (T2 - Tr) / steps)
    d = d0.copy()
    for a, b in zip(ts[:-1], ts[1:]):
        hs = b - a
        K1, K2 = K(a + (0.5 - c3) * hs), K(a + (0.5 + c3) * hs)
        Om = -1j * hs / 2 * (K1 + K2) - np.sqrt(3) / 12 * hs * hs * (K2 @ K1 - K1 @ K2)
        d = expm(Om) @ d
    steps, hs = len(ts) - 1, ts[-1] - ts[-2]
    # phases: reference dref = d(T2) in the Schrodinger picture with E - beta t S? continuation()
    # returns r.y * exp(-i theta(T2)) where theta includes beta t^2 S/2; ours lacks the
    # beta (T2^2 - Tr^2) S/2 phase per sector: a phase per sector, invisible in |d|^2 and in
    # the in-sector dressing at T2.
    ph = np.exp(-1j * 0.5 * beta * (T2**2 - Tr**2) * Sk)
    err = np.max(np.abs(d * ph - dref))
    print(f"Magnus-4, {steps} steps (h {hs:.3f}, h*max|D| {hs*np.max(np.abs(Dk)):.2f}): max |d - d_ref| {err:.1e}, TV(|d|^2) {0.5*np.abs(np.abs(d)**2-np.abs(dref)**2).sum():.1e}", flush=True)
