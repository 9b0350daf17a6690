/* Status codes and the last error message shared by every library call.
 * Library functions return a tcgpu_status; on failure tcgpu_last_error() says what was wrong
 * and what was expected, in one line fit for a user's terminal. */
#ifndef TCGPU_STATUS_H
#define TCGPU_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    TCGPU_OK = 0,
    TCGPU_EINVAL = 1,   /* bad input: a parameter outside its domain */
    TCGPU_ENOMEM = 2,   /* the request needs more memory than the machine has */
    TCGPU_ERUNTIME = 3, /* a failure while running (allocation, I/O, device) */
    TCGPU_EINTR = 4     /* stopped on request (tcgpu_request_stop) before finishing */
} tcgpu_status;

/* Asks every running propagation to stop soon (within a few hundred steps) with TCGPU_EINTR.
 * Async-signal-safe: meant for SIGINT/SIGTERM handlers. */
void tcgpu_request_stop(void);
int tcgpu_stop_requested(void);
void tcgpu_clear_stop(void);

/* The message of the last failed call in this thread ("" when none). */
const char *tcgpu_last_error(void);

/* Record a failure; returns code so that callers can write `return tcgpu_fail(...)`. */
tcgpu_status tcgpu_fail(tcgpu_status code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

#ifdef __cplusplus
}
#endif
#endif
