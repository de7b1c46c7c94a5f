/*
 * FINN's stream layout, as its PYNQ driver makes it with finn.util.data_packing (reverse_inner,
 * reverse_endian): per word, value 0 in the lowest bits, each value FINN_*_BITS wide (two's
 * complement for signed types, the IEEE bits for FLOAT32), the word padded with zero bits to
 * whole bytes, bytes little-endian. Checked against data_packing itself in the tests.
 */
#include "finn_pack.h"

#include <string.h>

#define MASK(bits) ((bits) >= 32 ? 0xFFFFFFFFu : ((1u << (bits)) - 1u))

static int32_t input_value(int32_t k) {
#ifdef FINN_IN_TABLE /* an imported model's input quantizer, moved to the host (host_input.py) */
    int i = k - (FINN_IN_TABLE_MIN);
    return finn_in_table[i < 0 ? 0 : i >= FINN_IN_TABLE_LEN ? FINN_IN_TABLE_LEN - 1 : i];
#else
    return k;
#endif
}

void finn_pack_input(const int32_t *x, uint8_t *buf) {
    for (int w = 0; w < FINN_IN_WORDS; ++w) {
        uint8_t *p = buf + w * FINN_IN_WORD_BYTES;
        uint64_t bits = 0; /* at most 7 + 32 bits pending */
        int pending = 0, n = 0;
        for (int i = 0; i < FINN_IN_FOLD; ++i) {
            bits |= (uint64_t)((uint32_t)input_value(x[w * FINN_IN_FOLD + i]) & MASK(FINN_IN_BITS)) << pending;
            for (pending += FINN_IN_BITS; pending >= 8; pending -= 8, bits >>= 8) p[n++] = (uint8_t)bits;
        }
        if (pending > 0) p[n++] = (uint8_t)bits;
        while (n < FINN_IN_WORD_BYTES) p[n++] = 0;
    }
}

void finn_unpack_output(const uint8_t *buf, double *y) {
    for (int w = 0; w < FINN_OUT_WORDS; ++w) {
        const uint8_t *p = buf + w * FINN_OUT_WORD_BYTES;
        uint64_t bits = 0;
        int pending = 0, n = 0;
        for (int i = 0; i < FINN_OUT_FOLD; ++i) {
            for (; pending < FINN_OUT_BITS; pending += 8) bits |= (uint64_t)p[n++] << pending;
            uint32_t raw = (uint32_t)bits & MASK(FINN_OUT_BITS);
            bits >>= FINN_OUT_BITS;
            pending -= FINN_OUT_BITS;
#if FINN_OUT_FLOAT
            float f;
            memcpy(&f, &raw, sizeof f);
            y[w * FINN_OUT_FOLD + i] = f;
#else
            int64_t v = raw;
            if (FINN_OUT_SIGNED && FINN_OUT_BITS < 64 && (raw >> (FINN_OUT_BITS - 1)) & 1u) v -= (int64_t)1 << FINN_OUT_BITS;
            y[w * FINN_OUT_FOLD + i] = (double)v;
#endif
        }
    }
}
