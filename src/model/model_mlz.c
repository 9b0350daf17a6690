/* A user's own H(t) = B t + A from a text file (the "mlz" model), documented in
 * docs/mlz-format.md:
 *   states D            number of diabatic states (first non-comment line)
 *   slope i b           B_ii (default 0)
 *   energy i a          A_ii (default 0)
 *   coupling i j v      A_ij = A_ji = v, i != j
 *   start i             the diabatic state the sweep starts in at t -> -inf (default 0)
 * States are numbered from 0; '#' starts a comment.
 *
 * The reader is strict because a lenient one turns typos into other models: every token is
 * read whole (no "3.7" read as 3, no trailing junk), each quantity is given at most once (a
 * pair given twice, in either order, is refused rather than summed or overwritten), sizes are
 * bounded before anything is allocated, and lines have no fixed buffer (a long comment is a
 * comment; past MLZ_LINE_MAX the file is refused, which also stops /dev/zero and binary
 * files early). Every error path frees what it allocated. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adiabatic.h"
#include "model_internal.h"

enum { MAX_TOKENS = 5 };

typedef struct {
    const char *path;
    FILE *f;
    char *buf;
    size_t cap;
    int line;
} reader;

/* A coupling as read, with its line for the duplicate message. */
typedef struct {
    int64_t i, j;
    double v;
    int line;
} mlz_pair;

static tcgpu_status bad(const reader *r, const char *fmt, const char *tok) {
    char shown[48];
    size_t n = 0;
    for (const char *s = tok ? tok : ""; *s && n + 4 < sizeof shown; ++s) /* terminal-safe */
        shown[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
    if (tok && strlen(tok) > n)
        memcpy(shown + n, "...", 3), n += 3;
    shown[n] = '\0';
    char what[512];
    snprintf(what, sizeof what, fmt, shown);
    return tcgpu_fail(TCGPU_EINVAL, "%s:%d: %s", r->path, r->line, what);
}

/* The next line without its newline into r->buf; 0 at the end of the file. A NUL byte or a
 * line over MLZ_LINE_MAX ends the reading with an error in *st. */
static int next_line(reader *r, tcgpu_status *st) {
    size_t n = 0;
    int c = EOF;
    ++r->line;
    while ((c = getc(r->f)) != EOF && c != '\n') {
        if (c == '\0') {
            *st = bad(r, "a NUL byte: this is not a text model file%s", "");
            return 0;
        }
        if (n + 1 >= MLZ_LINE_MAX) {
            char lim[32];
            snprintf(lim, sizeof lim, "%d", MLZ_LINE_MAX);
            *st = bad(r, "line longer than %s bytes; expected one short directive per line", lim);
            return 0;
        }
        if (n + 1 >= r->cap) {
            size_t cap = r->cap ? 2 * r->cap : 256;
            char *grown = realloc(r->buf, cap);
            if (!grown) {
                *st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory reading '%s'", r->path);
                return 0;
            }
            r->buf = grown;
            r->cap = cap;
        }
        r->buf[n++] = (char)c;
    }
    if (ferror(r->f) && tcgpu_stop_requested()) { /* a signal broke a blocking read (a FIFO) */
        *st = TCGPU_EINTR;
        return 0;
    }
    if (ferror(r->f)) {
        *st = tcgpu_fail(TCGPU_EINVAL, "cannot read the model file '%s': %s", r->path,
                         strerror(errno));
        return 0;
    }
    if (c == EOF && n == 0)
        return 0;
    if (!r->buf) { /* an empty last line: nothing was stored yet */
        if (!(r->buf = malloc(r->cap = 256))) {
            *st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory reading '%s'", r->path);
            return 0;
        }
    }
    r->buf[n] = '\0';
    return 1;
}

/* Splits the line (comment removed) into at most MAX_TOKENS whitespace-separated tokens;
 * returns the count, MAX_TOKENS + 1 when there are more. */
static int tokens(char *s, char **tok) {
    char *hash = strchr(s, '#');
    if (hash)
        *hash = '\0';
    static const char space[] = " \t\r\v\f";
    int n = 0;
    for (s += strspn(s, space); *s; s += strspn(s, space)) {
        if (n == MAX_TOKENS)
            return MAX_TOKENS + 1;
        tok[n++] = s;
        s += strcspn(s, space);
        if (*s)
            *s++ = '\0';
    }
    return n;
}

/* A state index: plain decimal digits, below `limit`. */
static int index_of(const char *t, int64_t limit, int64_t *out) {
    if (!*t || strspn(t, "0123456789") != strlen(t) || strlen(t) > 18)
        return 0;
    long long v = strtoll(t, NULL, 10);
    if (v >= limit)
        return 0;
    *out = v;
    return 1;
}

/* A real number written whole: decimal (no hex), finite, and 0 or within the magnitudes the
 * propagation is made for (a subnormal or 1e300 slope ends in NaN, not in an answer). */
static int real_of(const char *t, double *out) {
    const char *s = t + (*t == '+' || *t == '-');
    if (!*s || strchr(s, 'x') || strchr(s, 'X') || !(*s == '.' || (*s >= '0' && *s <= '9')))
        return 0;
    char *end;
    errno = 0;
    double v = strtod(t, &end);
    if (*end || errno == ERANGE || !isfinite(v))
        return 0;
    if (v != 0 && !(fabs(v) >= MLZ_VALUE_MIN && fabs(v) <= MLZ_VALUE_MAX))
        return 0;
    *out = v;
    return 1;
}

static int by_pair(const void *a, const void *b) {
    const mlz_pair *x = a, *y = b;
    if (x->i != y->i)
        return x->i < y->i ? -1 : 1;
    if (x->j != y->j)
        return x->j < y->j ? -1 : 1;
    return x->line - y->line;
}

#define NUMBERS "0 or a decimal number of magnitude 1e-8 to 1e8"

/* One directive; seen[] marks slopes (bit 1) and energies (bit 2) already given. */
static tcgpu_status directive(reader *r, tcgpu_model *m, char **tok, int n, unsigned char **seen,
                              mlz_pair **pairs, int64_t *npairs, int64_t *cap, int *start_line) {
    const char *w = tok[0];
    int64_t i = 0, j = 0, D = 0;
    double v = 0;
    if (!m->dim && strcmp(w, "states"))
        return bad(r, "'%s' before 'states D'; the first directive must be 'states D'", w);
    if (!strcmp(w, "states")) {
        if (m->dim)
            return bad(r, "a second 'states' line%s; give 'states D' once, first", "");
        if (n != 2 || !index_of(tok[1], (int64_t)TCGPU_DENSE_MAX + 1, &D) || D < 1) {
            char lim[80];
            snprintf(lim, sizeof lim,
                     "expected 'states D' with D a whole number 1 to %d, got '%%s'",
                     TCGPU_DENSE_MAX);
            return bad(r, lim, n >= 2 ? tok[1] : "");
        }
        tcgpu_status st = model_alloc(m, D, 1, 1, 0);
        if (!st && !(*seen = calloc((size_t)D, 1)))
            st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for %lld states", (long long)D);
        return st;
    }
    if (!strcmp(w, "slope") || !strcmp(w, "energy")) {
        unsigned char bit = w[0] == 's' ? 1 : 2;
        if (n != 3 || !index_of(tok[1], m->dim, &i))
            return bad(r, "expected '%s i x' with i a state 0 to D-1 and one number x", w);
        if (!real_of(tok[2], &v))
            return bad(r, "'%s' is not a number; expected " NUMBERS, tok[2]);
        if ((*seen)[i] & bit)
            return bad(r, "'%s' given twice for the same state; give each once", w);
        (*seen)[i] |= bit;
        (bit == 1 ? m->b : m->a)[i] = v;
        return TCGPU_OK;
    }
    if (!strcmp(w, "start")) {
        if (n != 2 || !index_of(tok[1], m->dim, &i))
            return bad(r, "expected 'start i' with i a state 0 to D-1, got '%s'",
                       n >= 2 ? tok[1] : "");
        if (*start_line)
            return bad(r, "a second 'start' line%s; give it once", "");
        *start_line = r->line;
        m->start = i;
        return TCGPU_OK;
    }
    if (!strcmp(w, "coupling")) {
        if (n != 4 || !index_of(tok[1], m->dim, &i) || !index_of(tok[2], m->dim, &j) || i == j)
            return bad(r, "expected 'coupling i j v' with states i != j in 0 to D-1%s", "");
        if (!real_of(tok[3], &v))
            return bad(r, "'%s' is not a number; expected " NUMBERS, tok[3]);
        if (*npairs >= MLZ_MAX_COUPLINGS) {
            char lim[96];
            snprintf(lim, sizeof lim, "more than %d couplings%%s; this version reads at most that",
                     MLZ_MAX_COUPLINGS);
            return bad(r, lim, "");
        }
        if (*npairs == *cap) {
            int64_t c = *cap ? 2 * *cap : 64;
            mlz_pair *grown = realloc(*pairs, (size_t)c * sizeof **pairs);
            if (!grown)
                return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for %lld couplings", (long long)c);
            *pairs = grown;
            *cap = c;
        }
        (*pairs)[(*npairs)++] = (mlz_pair){i > j ? i : j, i > j ? j : i, v, r->line};
        return TCGPU_OK;
    }
    return bad(r, "unknown keyword '%s'; expected states, slope, energy, coupling or start", w);
}

/* A pair given twice, in either order, is refused: summing or overwriting would both guess. */
static tcgpu_status check_pairs(reader *r, const mlz_pair *pairs, int64_t n) {
    if (n < 2)
        return TCGPU_OK;
    /* sorted on a copy: the couplings keep the file's order (and so the CSR its sums' order) */
    mlz_pair *s = malloc((size_t)n * sizeof *s);
    if (!s)
        return tcgpu_fail(TCGPU_ERUNTIME, "out of memory for %lld couplings", (long long)n);
    memcpy(s, pairs, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, by_pair);
    tcgpu_status st = TCGPU_OK;
    for (int64_t k = 1; !st && k < n; ++k)
        if (s[k].i == s[k - 1].i && s[k].j == s[k - 1].j) {
            char what[80];
            r->line = s[k].line;
            snprintf(what, sizeof what, "%lld %lld (first at line %d)", (long long)s[k].j,
                     (long long)s[k].i, s[k - 1].line);
            st = bad(r, "the coupling of states %s is given again; give each pair once", what);
        }
    free(s);
    return st;
}

tcgpu_status tcgpu_model_mlz_file(tcgpu_model *m, const char *path) {
    *m = (tcgpu_model){.kind = TCGPU_MODEL_MLZ, .N = 1, .g = 1, .beta = 1};
    if (!path || !*path)
        return tcgpu_fail(TCGPU_EINVAL,
                          "the model file name is empty; expected the path of a model file");
    FILE *f = fopen(path, "r");
    if (!f && tcgpu_stop_requested()) /* a FIFO with no writer blocks in open */
        return TCGPU_EINTR;
    if (!f)
        return tcgpu_fail(TCGPU_EINVAL, "cannot read the model file '%s': %s", path,
                          strerror(errno));
    tcgpu_status st = model_mlz_read(m, f, path);
    fclose(f);
    return st;
}

tcgpu_status model_mlz_read(tcgpu_model *m, FILE *f, const char *path) {
    *m = (tcgpu_model){.kind = TCGPU_MODEL_MLZ, .N = 1, .g = 1, .beta = 1};
    reader r = {.path = path, .f = f};
    unsigned char *seen = NULL;
    mlz_pair *pairs = NULL;
    int64_t npairs = 0, cap = 0;
    int start_line = 0;
    tcgpu_status st = TCGPU_OK;
    while (!st && next_line(&r, &st)) {
        char *tok[MAX_TOKENS] = {NULL};
        int n = tokens(r.buf, tok);
        if (n > MAX_TOKENS)
            st = bad(&r, "too many words after '%s'; expected one directive per line", tok[0]);
        else if (n > 0)
            st = directive(&r, m, tok, n, &seen, &pairs, &npairs, &cap, &start_line);
        /* a huge file of comments or blank lines must still yield to Ctrl-C / SIGTERM */
        if (!st && (r.line & 1023) == 0 && tcgpu_stop_requested())
            st = TCGPU_EINTR;
    }
    free(r.buf);
    free(seen);
    if (!st && !m->dim)
        st = tcgpu_fail(TCGPU_EINVAL, "%s: no 'states D' line; the file must begin with one", path);
    if (!st)
        st = check_pairs(&r, pairs, npairs);
    model_link *links = NULL;
    if (!st && npairs && !(links = malloc((size_t)npairs * sizeof *links)))
        st = tcgpu_fail(TCGPU_ERUNTIME, "out of memory for %lld couplings", (long long)npairs);
    for (int64_t k = 0; !st && k < npairs; ++k)
        links[k] = (model_link){pairs[k].i, pairs[k].j, pairs[k].v, 0};
    free(pairs);
    for (int64_t i = 0; !st && i < m->dim; ++i)
        m->labels[i] = (int32_t)i;
    if (!st)
        st = model_classify(m, links, npairs);
    if (!st)
        st = model_set_links(m, links, npairs);
    free(links);
    if (st)
        tcgpu_model_free(m);
    return st;
}
