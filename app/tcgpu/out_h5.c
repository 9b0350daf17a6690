/* dist.h5 layout (all datasets extendible along the sweep axis, chunked one sweep per chunk):
 *   /prob      [sweeps x dim] float64   final distribution of each sweep
 *   /exact     [sweeps x dim] float64   the exact engine's distribution (when one exists)
 *   /basis     [dim x K] int32          occupation numbers n1..nK of each state (lz, do, mlz:
 *                                       [dim x 1], the level index)
 *   /sweep, /g, /beta, /eps, /err_estimate              [sweeps]
 *   /tv_exact  [sweeps]  TV of /prob and /exact (only with /exact: an absent value is an
 *                        absent dataset, never a column of NaN)
 * Row i of /prob belongs to /sweep[i] (the sweep column of summary.csv). */
#include "out_h5.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum { NCOL = 6 };
static const char *const col_name[NCOL] = {"sweep", "g", "beta", "eps", "err_estimate", "tv_exact"};

struct out_h5 {
    hid_t file, prob, exact, col[NCOL];
    int64_t dim;
    hsize_t rows;
    char *path, *tmp;
};

static hid_t rows_dataset(hid_t file, const char *name, hid_t type, hsize_t width) {
    hsize_t dims[2] = {0, width}, maxd[2] = {H5S_UNLIMITED, width}, chunk[2] = {1, width};
    int rank = width ? 2 : 1;
    if (!width)
        chunk[0] = 1024;
    hid_t space = H5Screate_simple(rank, dims, maxd), plist = H5Pcreate(H5P_DATASET_CREATE);
    hid_t d = -1;
    if (space >= 0 && plist >= 0 && H5Pset_chunk(plist, rank, chunk) >= 0)
        d = H5Dcreate2(file, name, type, space, H5P_DEFAULT, plist, H5P_DEFAULT);
    H5Sclose(space);
    H5Pclose(plist);
    return d;
}

/* Appends one row (rank 2) or one value (rank 1) at index `row`. */
static herr_t append(hid_t d, hsize_t row, hsize_t width, hid_t type, const void *data) {
    int rank = width ? 2 : 1;
    hsize_t size[2] = {row + 1, width}, start[2] = {row, 0}, count[2] = {1, width};
    if (H5Dset_extent(d, size) < 0)
        return -1;
    hid_t fs = H5Dget_space(d), ms = H5Screate_simple(rank, count, NULL);
    herr_t st = fs < 0 || ms < 0 ? -1
                : H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, count, NULL) < 0
                    ? -1
                    : H5Dwrite(d, type, ms, fs, H5P_DEFAULT, data);
    H5Sclose(ms);
    H5Sclose(fs);
    return st;
}

void h5_no_exit_handler(void) {
    /* Our files are closed explicitly. HDF5's exit handler only closes again what failed to close
     * (a full disk), and in HDF5 1.10 that crashed (H5F__close_cb). Must precede any other
     * HDF5 call; later calls are harmless no-ops. */
    static int done;
    if (!done) {
        done = 1;
        H5dont_atexit();
    }
}

/* HDF5 prints its error stack per thread unless told not to in that thread; our failures are
 * reported by us, in one line (a full disk printed hundreds of lines from the main thread). */
static void quiet(void) {
    h5_no_exit_handler();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* Returns 0 when everything closed. A close that has to write and cannot (a full disk) left
 * HDF5 1.10 in a state its exit handler crashed on (H5F__close_cb), so out_h5_close makes
 * room and flushes before it closes. */
static int close_all(out_h5 *h) {
    int failed = 0;
    for (int c = 0; c < NCOL; ++c)
        if (h->col[c] >= 0 && H5Dclose(h->col[c]) >= 0)
            h->col[c] = -1;
    if (h->prob >= 0 && H5Dclose(h->prob) >= 0)
        h->prob = -1;
    if (h->exact >= 0 && H5Dclose(h->exact) >= 0)
        h->exact = -1;
    if (h->file >= 0 && H5Fclose(h->file) >= 0)
        h->file = -1;
    for (int c = 0; c < NCOL; ++c)
        failed |= h->col[c] >= 0;
    return failed || h->prob >= 0 || h->exact >= 0 || h->file >= 0;
}

static void out_free(out_h5 *h) {
    free(h->path);
    free(h->tmp);
    free(h);
}

int out_h5_open(const char *cmd, const char *path, int64_t dim, int K, const int *labels,
                int with_exact, out_h5 **out) {
    *out = NULL;
    quiet();
    out_h5 *h = calloc(1, sizeof *h);
    size_t len = strlen(path) + 64;
    if (!h || !(h->path = strdup(path)) || !(h->tmp = malloc(len))) {
        if (h)
            out_free(h);
        cli_error(cmd, "out of memory");
        return CLI_RUNTIME;
    }
    snprintf(h->tmp, len, "%s.tmp.%ld", path, (long)getpid());
    h->dim = dim;
    h->prob = h->exact = -1;
    for (int c = 0; c < NCOL; ++c)
        h->col[c] = -1;
    h->file = H5Fcreate(h->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    int ok = h->file >= 0;
    if (ok) {
        int w = K > 0 ? K : 1;
        int *tab = malloc((size_t)dim * (size_t)w * sizeof *tab);
        hsize_t bd[2] = {(hsize_t)dim, (hsize_t)w};
        hid_t bs = H5Screate_simple(2, bd, NULL), b = -1;
        for (int64_t i = 0; tab && i < dim; ++i)
            for (int k = 0; k < w; ++k)
                tab[i * w + k] = K > 0 ? labels[i * K + k] : (int)i;
        if (tab && bs >= 0)
            b = H5Dcreate2(h->file, "basis", H5T_STD_I32LE, bs, H5P_DEFAULT, H5P_DEFAULT,
                           H5P_DEFAULT);
        ok = b >= 0 && H5Dwrite(b, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, tab) >= 0;
        if (b >= 0)
            H5Dclose(b);
        H5Sclose(bs);
        free(tab);
    }
    if (ok) {
        h->prob = rows_dataset(h->file, "prob", H5T_IEEE_F64LE, (hsize_t)dim);
        h->exact = with_exact ? rows_dataset(h->file, "exact", H5T_IEEE_F64LE, (hsize_t)dim) : 0;
        ok = h->prob >= 0 && h->exact >= 0;
        if (!with_exact)
            h->exact = -1;
        for (int c = 0; ok && c < NCOL - !with_exact; ++c)
            ok = (h->col[c] = rows_dataset(h->file, col_name[c],
                                           c == 0 ? H5T_STD_I64LE : H5T_IEEE_F64LE, 0)) >= 0;
    }
    if (!ok) {
        close_all(h);
        remove(h->tmp);
        cli_error(cmd, "cannot create the HDF5 file '%s'", path);
        out_free(h);
        return CLI_RUNTIME;
    }
    *out = h;
    return CLI_OK;
}

int out_h5_append(const char *cmd, out_h5 *h, const out_h5_row *r, const double *prob,
                  const double *exact) {
    const double v[NCOL] = {0, r->g, r->beta, r->eps, r->err_estimate, r->tv_exact};
    quiet();
    errno = 0;
    int ok = append(h->prob, h->rows, (hsize_t)h->dim, H5T_NATIVE_DOUBLE, prob) >= 0;
    if (ok && h->exact >= 0)
        ok = append(h->exact, h->rows, (hsize_t)h->dim, H5T_NATIVE_DOUBLE, exact) >= 0;
    if (ok)
        ok = append(h->col[0], h->rows, 0, H5T_NATIVE_INT64, &r->sweep) >= 0;
    for (int c = 1; ok && c < NCOL && h->col[c] >= 0; ++c)
        ok = append(h->col[c], h->rows, 0, H5T_NATIVE_DOUBLE, &v[c]) >= 0;
    if (!ok) {
        cli_error(cmd, "writing sweep %lld to '%s' failed%s%s", (long long)r->sweep, h->path,
                  errno ? ": " : "", errno ? strerror(errno) : "");
        return CLI_RUNTIME;
    }
    h->rows++;
    return CLI_OK;
}

int out_h5_close(const char *cmd, out_h5 *h, int keep) {
    if (!h)
        return CLI_OK;
    quiet();
    int flushed = keep && H5Fflush(h->file, H5F_SCOPE_GLOBAL) >= 0, err = errno;
    /* a file that will not be kept (or cannot be finished: a full disk) is emptied first, so
     * that closing it, which still writes its metadata, has room to succeed */
    if (!flushed && truncate(h->tmp, 0) == 0)
        (void)H5Fflush(h->file, H5F_SCOPE_GLOBAL); /* now with room: the closes write nothing */
    else if (!flushed)
        err = errno;
    int open_left = close_all(h); /* once: a failed close has released the identifier */
    int rc = CLI_OK;
    if (!keep || !flushed) {
        remove(h->tmp);
        if (keep) {
            cli_error(cmd, "cannot finish the HDF5 file '%s': %s", h->path,
                      err ? strerror(err) : "write failed");
            rc = CLI_RUNTIME;
        }
    } else if (open_left || rename(h->tmp, h->path) != 0) {
        cli_error(cmd, "cannot finish the HDF5 file '%s'", h->path);
        remove(h->tmp);
        rc = CLI_RUNTIME;
    }
    out_free(h);
    return rc;
}
