/* Up-front checks of the CLI: output locations and value ranges, refused (exit 2, one line)
 * before any work starts, so that a typo never costs a computation that then fails at the
 * rename, and a value the propagation cannot serve never ends in NaN minutes later. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Paths longer than this leave no room for the temporary suffixes and file names we add
 * (PATH_MAX is 4096 on Linux; our buffers are 4096). */
enum { OUT_PATH_MAX = 3800 };

/* Whether a file can be created in dir: create and remove a probe, as the run will. For root,
 * access(W_OK) says yes to /proc, where no file can be created. */
static int dir_writable(const char *dir, int *err) {
    char probe[OUT_PATH_MAX + 64];
    snprintf(probe, sizeof probe, "%s/.tcgpu-probe.%ld", dir, (long)getpid());
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) {
        *err = errno;
        return 0;
    }
    close(fd);
    unlink(probe);
    return 1;
}

/* The folder that holds path ("." for a bare name) into buf. */
static void parent_of(const char *path, char *buf, size_t len) {
    snprintf(buf, len, "%s", path);
    char *slash = strrchr(buf, '/');
    while (slash && slash > buf && slash[1] == '\0') { /* "dir/" names dir */
        *slash = '\0';
        slash = strrchr(buf, '/');
    }
    if (!slash)
        snprintf(buf, len, ".");
    else if (slash == buf)
        buf[1] = '\0';
    else
        *slash = '\0';
}

static int check_common(const char *cmd, const char *flag, const char *path) {
    if (!*path) {
        cli_error(cmd, "--%s is empty; expected a path", flag);
        return CLI_BADINPUT;
    }
    if (strlen(path) > OUT_PATH_MAX) {
        cli_error(cmd, "--%s: the path is %zu characters long; expected at most %d", flag,
                  strlen(path), OUT_PATH_MAX);
        return CLI_BADINPUT;
    }
    return CLI_OK;
}

static int check_parent(const char *cmd, const char *flag, const char *path) {
    char parent[OUT_PATH_MAX + 8];
    struct stat s;
    int err = 0;
    parent_of(path, parent, sizeof parent);
    if (stat(parent, &s) != 0 || !S_ISDIR(s.st_mode)) {
        cli_error(cmd, "--%s '%s': the folder '%s' does not exist; expected an existing folder",
                  flag, path, parent);
        return CLI_BADINPUT;
    }
    if (!dir_writable(parent, &err)) {
        cli_error(cmd, "--%s '%s': cannot create files in '%s' (%s); expected a writable folder",
                  flag, path, parent, strerror(err));
        return CLI_BADINPUT;
    }
    return CLI_OK;
}

int cli_check_out_file(const char *cmd, const char *flag, const char *path) {
    if (!path || !strcmp(path, "-"))
        return CLI_OK;
    int rc = check_common(cmd, flag, path);
    if (rc)
        return rc;
    struct stat s;
    if (stat(path, &s) == 0 && !S_ISREG(s.st_mode)) {
        cli_error(cmd, "--%s '%s' is %s; expected a file name", flag, path,
                  S_ISDIR(s.st_mode) ? "a folder" : "not a regular file");
        return CLI_BADINPUT;
    }
    return check_parent(cmd, flag, path);
}

int cli_check_out_dir(const char *cmd, const char *flag, const char *path) {
    if (!path)
        return CLI_OK;
    int rc = check_common(cmd, flag, path);
    if (rc)
        return rc;
    struct stat s;
    int err = 0;
    if (stat(path, &s) != 0)
        return check_parent(cmd, flag, path);
    if (!S_ISDIR(s.st_mode)) {
        cli_error(cmd, "--%s '%s' exists and is not a folder; expected a folder", flag, path);
        return CLI_BADINPUT;
    }
    if (!dir_writable(path, &err)) {
        cli_error(cmd, "--%s '%s': cannot create files there (%s); expected a writable folder",
                  flag, path, strerror(err));
        return CLI_BADINPUT;
    }
    return CLI_OK;
}

int cli_in_range(const char *cmd, const char *flag, const double *v, size_t n, double lo,
                 double hi) {
    for (size_t i = 0; i < n; ++i)
        if (!(v[i] >= lo && v[i] <= hi)) {
            cli_error(cmd, "--%s: %g is out of range; expected %g to %g", flag, v[i], lo, hi);
            return CLI_BADINPUT;
        }
    return CLI_OK;
}
