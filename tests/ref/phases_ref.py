"""Reference values for tests/unit/test_exact_phase.c, computed with mpmath at 40 digits.

Run: python3 tests/ref/phases_ref.py  (needs `pip install mpmath`; CI does not run it, the
values it prints are pasted into the test). Eq 58 as corrected in shared/PHYSICS.md:
Phi_m = 3 m pi/4 + sum_{k=1}^{m} [arg Gamma(i (k + N - m) g^2/beta) - 2 arg Gamma(i k g^2/beta)],
with arg Gamma taken as Im loggamma (the branch continuous in g).
"""
import mpmath as mp

mp.mp.dps = 40

print("/* ln Gamma(z): z, Re, Im */")
for z in [mp.mpc(0, 1), mp.mpc(1, 1), mp.mpc(0.5, 2), mp.mpc(3, 100), mp.mpc(0, 1e-3),
          mp.mpc(0, 0.09), mp.mpc(0, 37.5), mp.mpc(-2.5, 0.7), mp.mpc(0.5, 0), mp.mpc(10, 0)]:
    v = mp.loggamma(z)
    print("{%s, %s, %s, %s}," % (mp.nstr(z.real, 20), mp.nstr(z.imag, 20),
                                mp.nstr(v.real, 25), mp.nstr(v.imag, 25)))

def phi(N, gam, m):
    s = mp.mpf(3) * m * mp.pi / 4
    for k in range(1, m + 1):
        s += mp.im(mp.loggamma(mp.mpc(0, (k + N - m) * gam))) - 2 * mp.im(mp.loggamma(mp.mpc(0, k * gam)))
    return s

print("/* Phi_m: N, g^2/beta, m, Phi */")
for N, gam in [(3, 0.09), (3, 0.5), (3, 1.0), (1, 0.3), (12, 2.7)]:
    for m in range(0, N + 1):
        print("{%d, %s, %d, %s}," % (N, mp.nstr(gam, 10), m, mp.nstr(phi(N, mp.mpf(gam), m), 25)))
