/* What the dense start and readout (adiabatic.c) share with the labelling of eigenstates by
 * the diabatic states they become as t -> +inf (adiabatic_labels.c): the frame of H(t), the
 * final order of the diabatic states, ties and the last crossing. */
#ifndef TCGPU_ADIABATIC_LABELS_H
#define TCGPU_ADIABATIC_LABELS_H

#include "adiabatic.h"

typedef struct {
    int64_t n;
    double *u, *e, *hdot; /* eigenvectors (columns), energies, dH/dt in the eigenbasis */
} frame;

typedef struct {
    double b, a;
    int64_t idx;
} slope_key;

/* label[j] = diabatic state that eigenvector j becomes. Groups of equal slope b keep their
 * order for t -> +inf only among themselves: eigenvectors go to the group holding most of
 * their weight, then ascend in energy as the group's diabatic energies a do; ties in a are
 * resolved by overlap. */
tcgpu_status adiabatic_assign_labels(const tcgpu_model *m, const frame *f, int settled,
                                     int64_t *label);
/* grp[i]: the lowest index of the diabatic states degenerate with i as t -> +inf. */
tcgpu_status adiabatic_tie_groups(const tcgpu_model *m, int64_t *grp);
void adiabatic_read_ties_diabatic(const frame *f, const int64_t *label, const int64_t *grp,
                                  const tcgpu_cplx *d, double *prob);
/* The diabatic states in their order as t -> +inf (ascending slope, then constant). */
slope_key *adiabatic_final_order(const tcgpu_model *m);
/* The time of the last crossing of the lines in the final order dia; -inf where none cross. */
double adiabatic_crossing_in(const slope_key *dia, int64_t n);
double adiabatic_last_crossing(const tcgpu_model *m);
/* label_of_rank[r], the state of energy rank r as t -> +inf; NULL on ties or short memory. */
int64_t *adiabatic_untied_labels(const slope_key *dia, int64_t n);

/* The dense frame of H(t) (eigenvectors, energies and, with with_hdot, dH/dt in the eigenbasis)
 * and its release. */
tcgpu_status adiabatic_frame_build(const eig_device *dev, const tcgpu_model *m, double t,
                                   int with_hdot, frame *f);
void adiabatic_frame_free(frame *f);

/* A dense readout's data at one time: the frame, the labels and tie groups, the dressing's
 * higher orders (r2, r3; NULL where not used). Built once, it reads any number of states
 * (adiabatic_readout_frame_read: c the eigenbasis amplitudes U^T psi; d: scratch, the dressed
 * amplitudes on return; unsure may be NULL). */
typedef struct {
    frame f;
    int64_t *label, *grp, *gid;
    double *r2, *r3;
    int settled, superadiabatic;
} readout_frame;
tcgpu_status adiabatic_readout_frame(const eig_device *dev, const tcgpu_model *m, double t,
                                     int superadiabatic, int settled, readout_frame *rf);
void adiabatic_readout_frame_read(const readout_frame *rf, const tcgpu_model *m,
                                  const tcgpu_cplx *c, tcgpu_cplx *d, double *prob,
                                  double *unsure);
void adiabatic_readout_frame_free(readout_frame *rf);

/* The dense readout (adiabatic_dense_readout_many) with its labelling chosen by the caller:
 * settled, by energy rank; else by slope group (the window readout's sub-models). */
tcgpu_status adiabatic_dense_readout_labelled(const eig_device *dev, const tcgpu_model *m,
                                              double t, int superadiabatic, int settled,
                                              int count, const tcgpu_cplx *const *psi,
                                              double *const *prob, double *const *unsure);

#endif
