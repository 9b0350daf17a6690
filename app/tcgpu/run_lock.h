/* The output folder's lock: one live `tcgpu run` writes a folder at a time, so a --resume (or a
 * second run) aimed at a folder that a running job still writes is refused instead of mixing
 * two runs' rows. */
#ifndef TCGPU_RUN_LOCK_H
#define TCGPU_RUN_LOCK_H

typedef struct {
    int fd; /* -1: not held */
    char path[4096];
} run_lock;

#define RUN_LOCK_NONE {-1, ""}

/* Takes dir's lock (a no-op when lk already holds one). A folder that a live process holds
 * gets one line naming its host and process, and CLI_BADINPUT. */
int run_lock_take(const char *cmd, const char *dir, run_lock *lk);
/* Whether a live process holds dir's lock, without creating anything (a refused --resume
 * leaves its folder untouched): CLI_OK where none does (no lock file, dir not a folder), else
 * run_lock_take's one line and CLI_BADINPUT. */
int run_lock_probe(const char *cmd, const char *dir);
/* Removes the lock file and lets the lock go (the kernel also lets it go at exit, SIGKILL
 * included, so a killed run never leaves its folder locked). */
void run_lock_release(run_lock *lk);

#endif
