/* Memory guard: refuse up front a request larger than the machine, with the amount it needs. */
#ifndef TCGPU_SYSMEM_H
#define TCGPU_SYSMEM_H

#include "tcgpu/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Physical memory of this machine in bytes (0 when unknown). */
double tcgpu_physical_memory(void);

/* TCGPU_OK when `bytes` (a double, so that overflowing counts stay comparable) fits in the
 * machine's physical memory; otherwise TCGPU_ENOMEM with a message naming `what`. */
tcgpu_status tcgpu_check_memory(double bytes, const char *what);

/* TCGPU_OK when `bytes` fit in the free space of the file system holding `dir` (or its parent
 * when dir does not exist yet); otherwise TCGPU_ENOMEM naming `what`. TCGPU_DISK_LIMIT (bytes)
 * imposes a smaller ceiling, for tests. */
tcgpu_status tcgpu_check_disk(double bytes, const char *dir, const char *what);

#ifdef __cplusplus
}
#endif
#endif
