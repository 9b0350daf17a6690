/* A POSIX record lock (fcntl) on DIR/.tcgpu-run.lock rather than the file's mere existence: the
 * kernel drops it when the holder dies, even by SIGKILL or on a failed node (NFS's lock manager
 * reclaims it), so a stale file never blocks a --resume. The file names its holder for the
 * message. */
#include "run_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int refuse(const char *cmd, const char *dir, int fd) {
    char holder[256] = "";
    ssize_t n = pread(fd, holder, sizeof holder - 1, 0);
    holder[n > 0 ? n : 0] = '\0';
    holder[strcspn(holder, "\n")] = '\0';
    close(fd);
    cli_error(cmd,
              "'%s' is being written by a live tcgpu run (%s); expected a folder no running "
              "job writes (wait for that run to end, or stop it and --resume it)",
              dir, *holder ? holder : "holder unknown");
    return CLI_BADINPUT;
}

int run_lock_probe(const char *cmd, const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/.tcgpu-run.lock", dir);
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return CLI_OK; /* no lock file (or no folder): no live run holds it */
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
        return refuse(cmd, dir, fd);
    close(fd);
    return CLI_OK;
}

int run_lock_take(const char *cmd, const char *dir, run_lock *lk) {
    if (lk->fd >= 0)
        return CLI_OK;
    snprintf(lk->path, sizeof lk->path, "%s/.tcgpu-run.lock", dir);
    int fd = open(lk->path, O_RDWR | O_CREAT, 0666);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) /* no folder: nothing can be writing it */
            return CLI_OK;
        cli_error(cmd, "cannot open the lock file '%s': %s", lk->path, strerror(errno));
        return CLI_RUNTIME;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &fl) != 0)
        return refuse(cmd, dir, fd);
    char me[256], host[128] = "unknown host";
    gethostname(host, sizeof host);
    host[sizeof host - 1] = '\0';
    int len = snprintf(me, sizeof me, "host %s, process %ld\n", host, (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, me, (size_t)len, 0) != len) {
        /* the lock holds without its note; only the refusal's message loses the holder */
    }
    lk->fd = fd;
    return CLI_OK;
}

void run_lock_release(run_lock *lk) {
    if (lk->fd < 0)
        return;
    unlink(lk->path);
    close(lk->fd);
    lk->fd = -1;
}
