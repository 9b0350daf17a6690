#include "tcgpu/sysmem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

double tcgpu_physical_memory(void) {
    /* TCGPU_MEMORY_LIMIT (bytes) lets tests and batch schedulers impose a smaller ceiling. */
    const char *limit = getenv("TCGPU_MEMORY_LIMIT");
    if (limit && *limit) {
        char *end;
        double v = strtod(limit, &end);
        if (*end == '\0' && v > 0)
            return v;
    }
    long pages = sysconf(_SC_PHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
        return 0;
    return (double)pages * (double)page;
}

tcgpu_status tcgpu_check_memory(double bytes, const char *what) {
    double have = tcgpu_physical_memory();
    if (have > 0 && !(bytes <= have))
        return tcgpu_fail(TCGPU_ENOMEM,
                          "%s needs %.3g GiB of memory but this machine has %.3g GiB; "
                          "ask for a smaller N or fewer channels",
                          what, bytes / 1073741824.0, have / 1073741824.0);
    return TCGPU_OK;
}

tcgpu_status tcgpu_check_disk(double bytes, const char *dir, const char *what) {
    double have = 0;
    const char *limit = getenv("TCGPU_DISK_LIMIT");
    if (limit && *limit) {
        have = strtod(limit, NULL);
    } else {
        char parent[4096];
        struct statvfs v;
        snprintf(parent, sizeof parent, "%s", dir);
        int ok = statvfs(parent, &v) == 0;
        if (!ok) { /* not created yet: ask its parent */
            char *slash = strrchr(parent, '/');
            if (slash && slash != parent)
                *slash = '\0';
            else
                snprintf(parent, sizeof parent, "%s", slash ? "/" : ".");
            ok = statvfs(parent, &v) == 0;
        }
        if (!ok)
            return TCGPU_OK; /* unknown: the writes themselves will report a full disk */
        have = (double)v.f_bavail * (double)v.f_frsize;
    }
    if (!(bytes <= have))
        return tcgpu_fail(TCGPU_ENOMEM,
                          "%s needs %.3g GiB of disk but %s has %.3g GiB free; ask for fewer "
                          "sweeps or less output",
                          what, bytes / 1073741824.0, dir, have / 1073741824.0);
    return TCGPU_OK;
}
