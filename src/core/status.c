/* Thread-local last-error message: library calls stay re-entrant across OpenMP threads. */
#include "tcgpu/status.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>

static volatile sig_atomic_t stop_flag;

void tcgpu_request_stop(void) { stop_flag = 1; }
int tcgpu_stop_requested(void) { return stop_flag != 0; }
void tcgpu_clear_stop(void) { stop_flag = 0; }

static _Thread_local char last_error[512];

const char *tcgpu_last_error(void) { return last_error; }

tcgpu_status tcgpu_fail(tcgpu_status code, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}
