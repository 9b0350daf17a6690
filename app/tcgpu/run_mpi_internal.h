/* What the parts of the MPI runner share (MPI builds only): run_mpi.c (start, options, end),
 * run_mpi_lead.c (rank 0 hands out sweeps and takes results) and run_mpi_serve.c (the other
 * ranks compute them). */
#ifndef TCGPU_RUN_MPI_INTERNAL_H
#define TCGPU_RUN_MPI_INTERNAL_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "run_mpi.h"

enum { TAG_ARGS = 1, TAG_HELLO, TAG_GIVE, TAG_DONE, TAG_BEAT, TAG_STOP, TAG_QUIT, TAG_BYE };

#define BEAT_SECONDS 2.0
#define DEAD_SECONDS 20.0
#define DRAIN_SECONDS 10.0 /* after a stop: how long rank 0 waits for the others to leave */

extern run_mpi_report rmpi_report;
extern int rmpi_have_report;
extern const char *rmpi_stop_reason;
extern int rmpi_on, rmpi_rank, rmpi_size;
extern int rmpi_stopped;   /* the job stopped early: the ranks leave through a drain */
extern int rmpi_abandon;   /* some rank cannot be reached: MPI_Abort ends the job */
extern char *rmpi_bye_due; /* rank 0, after a stop: [size] ranks that still owe a BYE */
extern char rmpi_stop_text[512];

double rmpi_now(void);
/* A short sleep between polls. */
void rmpi_nap(void);
void rmpi_host_name(char *buf, size_t len);
/* The options as one buffer of NUL-terminated strings; go = 0: no run follows. */
int rmpi_send_args(int go);

/* A finished sweep on the wire: this header, then p[dim] and ex[dim]. */
typedef struct {
    int64_t idx, dim;
    int32_t rc, pad;
    double seconds;
    tcgpu_auto_report r;
} wire_head;

typedef struct {
    int32_t slots;
    char host[64];
    char device[96];
} wire_hello;

#endif
