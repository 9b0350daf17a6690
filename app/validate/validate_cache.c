/* Finished sweeps kept in the output folder, so that a campaign stopped by a signal, a crash or a
 * time limit loses only the sweeps in flight: `tcgpu validate` into the same folder again takes
 * them back instead of recomputing them (a sweep at N = 1e5 is half an hour). One HDF5 file per
 * sweep, DIR/sweeps/<hash of its key>.h5:
 *   attributes  key     the sweep's parameters, exactly (v_sweep_key)
 *               commit  the commit of the binary that computed it
 *   /p, /exact  [dim] float64   simulated and exact distributions
 *   /report     [3] float64     seconds, error estimate, Tr of the sweep's control
 * Written under a temporary name and renamed, so a file that exists is whole. The folder is
 * removed when the campaign completes. */
#include <dirent.h>
#include <errno.h>
#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "out_h5.h"
#include "validate.h"

#ifndef TCGPU_GIT_COMMIT
#define TCGPU_GIT_COMMIT "unknown"
#endif

/* The method and precision are fixed by validate's sweeps (magnus4, fp64, tolerance in the key);
 * a change of what a key means changes its version. */
void v_sweep_key(const vsweep *s, char *buf, size_t len) {
    snprintf(buf, len, "v1 magnus4 fp64 %d %lld %d %a %a %a %a", (int)s->kind, (long long)s->N,
             s->K, s->g, s->beta, s->eps, s->tol);
}

static void path_of(const vctx *c, const char *key, char *path, size_t len) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const char *p = key; *p; ++p)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    snprintf(path, len, "%s/sweeps/%016llx.h5", c->dir, (unsigned long long)h);
}

static int write_string(hid_t loc, const char *name, const char *value) {
    hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate(H5S_SCALAR), a = -1;
    int ok = t >= 0 && sp >= 0 && H5Tset_size(t, strlen(value) + 1) >= 0 &&
             (a = H5Acreate2(loc, name, t, sp, H5P_DEFAULT, H5P_DEFAULT)) >= 0 &&
             H5Awrite(a, t, value) >= 0;
    H5Aclose(a);
    H5Sclose(sp);
    H5Tclose(t);
    return ok;
}

/* The attribute as a string in buf, or 0 if absent or longer than buf. */
static int read_string(hid_t loc, const char *name, char *buf, size_t len) {
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT), t = a >= 0 ? H5Aget_type(a) : -1;
    size_t n = t >= 0 ? H5Tget_size(t) : 0;
    int ok = n > 0 && n <= len && H5Tget_class(t) == H5T_STRING && H5Aread(a, t, buf) >= 0;
    if (ok)
        buf[n - 1] = '\0';
    H5Tclose(t);
    H5Aclose(a);
    return ok;
}

static int write_doubles(hid_t file, const char *name, const double *v, hsize_t n) {
    hid_t sp = H5Screate_simple(1, &n, NULL), d = -1;
    int ok = sp >= 0 &&
             (d = H5Dcreate2(file, name, H5T_NATIVE_DOUBLE, sp, H5P_DEFAULT, H5P_DEFAULT,
                             H5P_DEFAULT)) >= 0 &&
             H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
    H5Dclose(d);
    H5Sclose(sp);
    return ok;
}

/* n doubles, only if the dataset holds exactly n. */
static int read_doubles(hid_t file, const char *name, double *v, hsize_t n) {
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
    hsize_t have = 0;
    int ok = sp >= 0 && H5Sget_simple_extent_ndims(sp) == 1 &&
             H5Sget_simple_extent_dims(sp, &have, NULL) == 1 && have == n &&
             H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0;
    H5Sclose(sp);
    H5Dclose(d);
    return ok;
}

int v_cache_has(const vctx *c, const vsweep *s) {
    char key[256], path[4096];
    v_sweep_key(s, key, sizeof key);
    path_of(c, key, path, sizeof path);
    return access(path, R_OK) == 0;
}

int v_cache_load(const vctx *c, const vsweep *s, int64_t dim, double *p, double *ex,
                 double report[3], char *commit, size_t commit_len) {
    char key[256], path[4096], stored[256];
    v_sweep_key(s, key, sizeof key);
    path_of(c, key, path, sizeof path);
    if (access(path, R_OK) != 0)
        return 0;
    int ok = 0;
#pragma omp critical(tcgpu_hdf5)
    {
        h5_no_exit_handler();
        H5E_auto2_t fn;
        void *data;
        H5Eget_auto2(H5E_DEFAULT, &fn, &data);
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* an unreadable file is recomputed, not an error */
        hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
        ok = f >= 0 && read_string(f, "key", stored, sizeof stored) && !strcmp(stored, key) &&
             read_string(f, "commit", commit, commit_len) &&
             read_doubles(f, "p", p, (hsize_t)dim) && read_doubles(f, "exact", ex, (hsize_t)dim) &&
             read_doubles(f, "report", report, 3);
        if (f >= 0)
            H5Fclose(f);
        H5Eset_auto2(H5E_DEFAULT, fn, data);
    }
    return ok;
}

int v_cache_store(const vctx *c, const vsweep *s) {
    char key[256], path[4096], tmp[4200];
    v_sweep_key(s, key, sizeof key);
    snprintf(path, sizeof path, "%s/sweeps", c->dir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST)
        return 0;
    path_of(c, key, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
    const double report[3] = {s->seconds, s->err_estimate, s->Tr};
    int ok = 0;
#pragma omp critical(tcgpu_hdf5)
    {
        h5_no_exit_handler();
        hid_t f = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        ok = f >= 0 && write_string(f, "key", key) && write_string(f, "commit", TCGPU_GIT_COMMIT) &&
             write_doubles(f, "p", s->p, (hsize_t)s->m.dim) &&
             write_doubles(f, "exact", s->ex, (hsize_t)s->m.dim) &&
             write_doubles(f, "report", report, 3);
        if (f >= 0 && H5Fclose(f) < 0)
            ok = 0;
    }
    if (ok && rename(tmp, path) != 0)
        ok = 0;
    if (!ok)
        unlink(tmp);
    return ok;
}

/* Removes DIR/sweeps: the files this cache writes (16 hex digits, .h5, or their temporaries),
 * then the folder if nothing else is in it. */
void v_cache_clear(const vctx *c) {
    char dir[4096], path[4400];
    snprintf(dir, sizeof dir, "%s/sweeps", c->dir);
    DIR *d = opendir(dir);
    if (!d)
        return;
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n >= 19 && strspn(e->d_name, "0123456789abcdef") == 16 &&
            !strncmp(e->d_name + 16, ".h5", 3)) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

void v_note_reused(vctx *c, const char *commit) {
#pragma omp critical(tcgpu_validate_reused)
    {
        ++c->reused;
        size_t n = strlen(c->reused_from);
        if (!strstr(c->reused_from, commit) && n + strlen(commit) + 3 < sizeof c->reused_from)
            snprintf(c->reused_from + n, sizeof c->reused_from - n, "%s%s", n ? ", " : "",
                     commit);
    }
}
