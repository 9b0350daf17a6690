/* A user's own H(t) = B t + A from a text file (the "mlz" model), documented in
 * docs/mlz-format.md:
 *   states D            number of diabatic states (first non-comment line)
 *   slope i b           B_ii (default 0)
 *   energy i a          A_ii (default 0)
 *   coupling i j v      A_ij = A_ji = v, i != j
 *   start i             the diabatic state the sweep starts in at t -> -inf (default 0)
 * States are numbered from 0; '#' starts a comment. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_internal.h"

static tcgpu_status bad(const char *path, int line, const char *what) {
    return tcgpu_fail(TCGPU_EINVAL, "%s:%d: %s", path, line, what);
}

static int in_range(long long i, int64_t dim) { return i >= 0 && i < dim; }

tcgpu_status tcgpu_model_mlz_file(tcgpu_model *m, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return tcgpu_fail(TCGPU_EINVAL, "cannot read the model file '%s': %s", path,
                          strerror(errno));
    char buf[512], word[32];
    int line = 0;
    int64_t nlinks = 0, cap = 16;
    model_link *links = malloc((size_t)cap * sizeof *links);
    tcgpu_status st = links ? TCGPU_OK : tcgpu_fail(TCGPU_ERUNTIME, "out of memory");
    *m = (tcgpu_model){.kind = TCGPU_MODEL_MLZ, .N = 1, .g = 1, .beta = 1};
    while (!st && fgets(buf, sizeof buf, f)) {
        ++line;
        char *hash = strchr(buf, '#');
        if (hash)
            *hash = '\0';
        long long i = 0, j = 0;
        double v = 0;
        int n = sscanf(buf, "%31s %lld %lld %lf", word, &i, &j, &v);
        if (n <= 0)
            continue;
        if (!m->dim && strcmp(word, "states"))
            st = bad(path, line, "the first line must be 'states D'");
        else if (!strcmp(word, "states")) {
            if (m->dim || n != 2 || i < 1 || i > 100000)
                st = bad(path, line, "'states D' once, with 1 <= D <= 100000");
            else
                st = model_alloc(m, i, 1, 1, 0);
        } else if (!strcmp(word, "slope") || !strcmp(word, "energy")) {
            if (sscanf(buf, "%31s %lld %lf", word, &i, &v) != 3 || !in_range(i, m->dim) ||
                !isfinite(v))
                st = bad(path, line, "expected 'slope i b' or 'energy i a' with 0 <= i < D");
            else
                (word[0] == 's' ? m->b : m->a)[i] = v;
        } else if (!strcmp(word, "start")) {
            if (n != 2 || !in_range(i, m->dim))
                st = bad(path, line, "expected 'start i' with 0 <= i < D");
            else
                m->start = i;
        } else if (!strcmp(word, "coupling")) {
            if (n != 4 || !in_range(i, m->dim) || !in_range(j, m->dim) || i == j || !isfinite(v))
                st = bad(path, line, "expected 'coupling i j v' with i != j in 0..D-1");
            else {
                if (nlinks == cap) {
                    model_link *grown = realloc(links, (size_t)(cap *= 2) * sizeof *links);
                    if (!grown) {
                        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory");
                        break;
                    }
                    links = grown;
                }
                links[nlinks++] = (model_link){i > j ? i : j, i > j ? j : i, v, 0};
            }
        } else
            st = bad(path, line,
                     "unknown keyword; expected states, slope, energy, coupling "
                     "or start");
    }
    fclose(f);
    if (!st && !m->dim)
        st = bad(path, line, "no 'states D' line");
    for (int64_t i = 0; !st && i < m->dim; ++i)
        m->labels[i] = (int32_t)i;
    if (!st)
        st = model_classify(m, links, nlinks);
    if (!st)
        st = model_set_links(m, links, nlinks);
    free(links);
    return st;
}
