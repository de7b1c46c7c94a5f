/*
 * FINN's packed stream layout (board_io.py, finn_io.h): the firmware's integers into the
 * accelerator's input words, its output words back into values.
 */
#ifndef FINN_PACK_H
#define FINN_PACK_H

#include <stdint.h>

#include "finn_io.h"

#define FINN_IN_BYTES (FINN_IN_WORDS * FINN_IN_WORD_BYTES)
#define FINN_OUT_BYTES (FINN_OUT_WORDS * FINN_OUT_WORD_BYTES)
#define FINN_N_IN_VALUES (FINN_IN_WORDS * FINN_IN_FOLD)
#define FINN_N_OUT_VALUES (FINN_OUT_WORDS * FINN_OUT_FOLD)

void finn_pack_input(const int32_t *x, uint8_t *buf);
void finn_unpack_output(const uint8_t *buf, double *y);

#endif
