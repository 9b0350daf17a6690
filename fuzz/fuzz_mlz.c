/* libFuzzer target: the mlz model-file reader on arbitrary bytes. Any input must end in a model
 * or in TCGPU_EINVAL with a message, with nothing leaked (ASan/LSan) and no undefined behaviour
 * (UBSan); the reader's limits (64 KiB lines, D <= 6000) keep each input cheap. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "model_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static char empty[1];
    FILE *f = size ? fmemopen((void *)data, size, "r") : fmemopen(empty, 0, "r");
    if (!f)
        return 0;
    tcgpu_model m;
    tcgpu_status st = model_mlz_read(&m, f, "fuzz");
    fclose(f);
    if (st == TCGPU_OK) {
        if (!(m.dim >= 1 && m.start >= 0 && m.start < m.dim && m.row_ptr[m.dim] % 2 == 0))
            __builtin_trap(); /* a model the reader accepted must be well formed */
        tcgpu_model_free(&m);
    } else if (m.b || m.row_ptr || m.labels) {
        __builtin_trap(); /* a refusal leaves nothing behind */
    }
    return 0;
}
