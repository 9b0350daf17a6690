/* Assembly helpers shared by the model builders. */
#ifndef TCGPU_MODEL_INTERNAL_H
#define TCGPU_MODEL_INTERNAL_H

#include <stdio.h>

#include "tcgpu/model.h"

/* A coupling V_ij = v between states i > j, in phase class cls. */
typedef struct {
    int64_t i, j;
    double v;
    int32_t cls;
} model_link;

/* Allocates the diagonal, labels (dim x K) and classes; zero-filled. */
tcgpu_status model_alloc(tcgpu_model *m, int64_t dim, int K, int nclass, int with_w);

/* Builds the CSR (both triangles) from links; takes ownership of nothing. */
tcgpu_status model_set_links(tcgpu_model *m, const model_link *links, int64_t nlinks);

/* Fills the phase classes from the diagonal: class of each link from (b, a, w) differences,
 * merging equal differences. Links' cls fields are written. */
tcgpu_status model_classify(tcgpu_model *m, model_link *links, int64_t nlinks);

/* A deep copy of src (every array its own), for a helper thread that may outlive src's owner
 * (src/numerics/adiabatic_async.c). On failure dst holds nothing. */
tcgpu_status model_copy(const tcgpu_model *src, tcgpu_model *dst);

/* The mlz reader on an open stream (tcgpu_model_mlz_file opens the file; the fuzz target
 * reads from memory); path names the source in messages. The stream is left open. */
tcgpu_status model_mlz_read(tcgpu_model *m, FILE *f, const char *path);

#endif
