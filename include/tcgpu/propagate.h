/* Propagation of one sweep: adiabatic (superadiabatic) start at t_start, batched-ready
 * interaction-picture steps (RK4 or commutator-free Magnus-4), projection on the dressed
 * instantaneous eigenstates at the readout times, and the accuracy control around it. */
#ifndef TCGPU_PROPAGATE_H
#define TCGPU_PROPAGATE_H

#include "tcgpu/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { TCGPU_METHOD_RK4 = 0, TCGPU_METHOD_MAGNUS4 = 1 } tcgpu_method;

/* Arithmetic of the march (amplitudes, couplings, class weights). The grid, the phases, the
 * start and the readout are fp64 in both; fp32 rounds the state once per step to ~6e-8. */
typedef enum { TCGPU_FP64 = 0, TCGPU_FP32 = 1 } tcgpu_precision;

typedef struct {
    tcgpu_method method;
    double t_start, t_end; /* the window (heff: 0 < t_start < t_end) */
    double t_check[2];     /* earlier readouts (window error estimate), ascending; each used when
                            * the result's prob_check[i] is not NULL */
    double kappa;          /* phase advanced per step: h(t) = kappa / r(t), r the local rate */
    int superadiabatic;    /* dressing order of start and readout: 0 plain adiabatic, 1, 2 (2
                            * where dH/dt is constant, else 1), 3 (the dense readout's third
                            * order where dH/dt is constant; starts and chains take 2) */
    tcgpu_precision precision;
} tcgpu_sweep_opts;

typedef struct {
    double *prob;                /* [dim] final probabilities, indexed like the model's basis */
    double *prob_check[2];       /* [dim] at t_check[i], or NULL for no intermediate readout */
    int64_t steps, applications; /* time steps, applications of the coupling matrix */
    double norm_error;           /* | |phi|^2 - 1 | at the end of the propagation */
} tcgpu_sweep_result;

/* Runs one sweep with fixed window and step parameter. r->prob (and each non-NULL
 * r->prob_check[i]) must hold m->dim doubles. */
tcgpu_status tcgpu_sweep_run(const tcgpu_model *m, const tcgpu_sweep_opts *o,
                             tcgpu_sweep_result *r);

/* A sweep in progress: started in the (dressed) adiabatic state at t_start, advanced on the
 * kappa grid, read out at any time it has reached. Lets one propagation serve readouts at many
 * times (the accuracy control grows its window this way instead of starting again). */
typedef struct tcgpu_sweep tcgpu_sweep;

tcgpu_status tcgpu_sweep_begin(const tcgpu_model *m, tcgpu_method method, tcgpu_precision precision,
                               double t_start, double kappa, int superadiabatic, tcgpu_sweep **s);
tcgpu_status tcgpu_sweep_advance(tcgpu_sweep *s, double t);
/* prob (dim doubles): populations of the dressed eigenstates at the sweep's current time. */
tcgpu_status tcgpu_sweep_readout(tcgpu_sweep *s, double *prob);
/* Both sweeps (one model, advanced to one time) read out with one eigen-decomposition. */
tcgpu_status tcgpu_sweep_readout_pair(tcgpu_sweep *a, tcgpu_sweep *b, double *pa, double *pb);
double tcgpu_sweep_norm_error(const tcgpu_sweep *s);
/* Population whose label the last readout could not trust (an eigenstate mostly outside the
 * slope group of its label: levels not yet separated); the window has to grow past it. */
double tcgpu_sweep_unsure(const tcgpu_sweep *s);
/* Read every eigenvector as the diabatic state of its energy rank at t -> +inf, at any readout
 * time (otherwise only after the last diabatic crossing). Right only for a sweep that stays
 * adiabatic after the readout: the accuracy control sets it where the exact solution bounds
 * the nonadiabatic weight below tol/10 (tcgpu_sweep_auto), so that the window need not wait
 * for the slow redistribution between channels (t_c ~ g^2 N/(beta eps)) to end. */
void tcgpu_sweep_rank_labels(tcgpu_sweep *s, int on);
double tcgpu_sweep_time(const tcgpu_sweep *s);
/* The interaction-picture amplitudes (re, im interleaved, 2 dim doubles) the march advances. */
const double *tcgpu_sweep_state(const tcgpu_sweep *s);
int64_t tcgpu_sweep_steps(const tcgpu_sweep *s);
int64_t tcgpu_sweep_applications(const tcgpu_sweep *s);
void tcgpu_sweep_end(tcgpu_sweep *s);

/* Accuracy control: chooses the window and the step from the model's time scales and tol
 * (total-variation distance of the final distribution), unless T0, Tr or kappa are given
 * (> 0), and reports what it did. */
typedef struct {
    tcgpu_method method;
    double tol;
    double T0, Tr;     /* window overrides (0 = automatic) */
    double kappa;      /* step override (0 = automatic) */
    int max_doublings; /* step-halving rounds allowed (default 8) */
    tcgpu_precision precision;
} tcgpu_auto_opts;

typedef struct {
    double T0, Tr, kappa;
    int64_t steps, applications;
    double norm_error;
    double err_step, err_window, err_estimate; /* estimated TV errors */
    double seconds;
} tcgpu_auto_report;

tcgpu_status tcgpu_sweep_auto(const tcgpu_model *m, const tcgpu_auto_opts *o, double *prob,
                              tcgpu_auto_report *rep);

/* Start-window error: the state propagated to -T0 from a dressed start at -1.3 T0 (heff: to T0
 * from T0/10) has leaked L out of the dressed ground state there; the estimate is sqrt(L),
 * which bounds the total-variation distance that leakage can cause. */
tcgpu_status tcgpu_sweep_start_error(const tcgpu_model *m, tcgpu_method method,
                                     tcgpu_precision precision, double T0, double kappa,
                                     double *err);

/* Total-variation distance 1/2 sum |p - q| and max |p - q|. */
double tcgpu_tv(const double *p, const double *q, int64_t n);
double tcgpu_maxabs(const double *p, const double *q, int64_t n);

#ifdef __cplusplus
}
#endif
#endif
