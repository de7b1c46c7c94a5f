/*
 * The hls4ml accelerator on a board, behind accel.h: hls4ml's VivadoAccelerator AXI-stream top
 * (myproject_axi: one float32 word per input value in, one per output value out) fed by an AXI
 * DMA in simple mode (hls4ml's design on the Pynq-Z2, our MicroBlaze design on the Arty A7).
 * The top converts the floats to and from the model's fixed-point types: raw words scaled by
 * 2^-FRAC are exact in float for the widths used here (< 24 significant bits).
 */
#include <math.h>

#include "accel.h"
#include "axi_dma.h"
#include "hal_dma.h"
#include "th_api.h"

static float in_words[HAL_DMA_BYTES(ACCEL_N_IN * 4) / 4] __attribute__((aligned(HAL_DMA_ALIGN)));
static float out_words[HAL_DMA_BYTES(ACCEL_N_OUT * 4) / 4] __attribute__((aligned(HAL_DMA_ALIGN)));

void accel_init(void) {
    if (axi_dma_init(ACCEL_DMA_BASE) != 0) th_printf("e-[accelerator: the AXI DMA at 0x%08lx does not leave reset]\r\n",
                                                     (unsigned long)ACCEL_DMA_BASE);
}

void accel_run(const int32_t *in, int64_t *out) {
    for (int i = 0; i < ACCEL_N_IN; ++i) in_words[i] = ldexpf((float)in[i], -ACCEL_IN_FRAC);
    hal_dcache_flush(in_words, sizeof in_words);
    hal_dcache_invalidate(out_words, sizeof out_words);
    uint32_t status = axi_dma_transfer(ACCEL_DMA_BASE, in_words, ACCEL_N_IN * 4, out_words, ACCEL_N_OUT * 4);
    if (status) th_printf("e-[accelerator: AXI DMA failed (DMASR 0x%08lx)]\r\n", (unsigned long)status);
    hal_dcache_invalidate(out_words, sizeof out_words);
    for (int i = 0; i < ACCEL_N_OUT; ++i) out[i] = status ? 0 : llround(ldexp((double)out_words[i], ACCEL_OUT_FRAC));
}
