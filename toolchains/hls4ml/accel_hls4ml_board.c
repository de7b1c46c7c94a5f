/*
 * The hls4ml accelerator on a board, behind accel.h: the board IP's AXI-stream top
 * (toolchains/hls4ml/accel_axis.cpp: one 32-bit word per value each way, the value's raw
 * fixed-point bits, sign-extended for a signed type) fed by an AXI DMA in simple mode (our block
 * designs: the Zynq design on the Pynq-Z2 and the ZedBoard, the MicroBlaze design on the Arty A7).
 * The words are the integers accel_run takes and gives (values at 2^-ACCEL_IN_FRAC and
 * 2^-ACCEL_OUT_FRAC), so nothing is converted on the way: the board computes exactly what the
 * emulated board does.
 */
#include "accel.h"
#include "axi_dma.h"
#include "hal_dma.h"
#include "th_api.h"

#define IN_BYTES (ACCEL_N_IN * 4)
#define OUT_BYTES (ACCEL_N_OUT * 4)

static int32_t *in_words, *out_words; /* from hal_dma_buffer */

void accel_init(void) {
    in_words = hal_dma_buffer(IN_BYTES);
    out_words = hal_dma_buffer(OUT_BYTES);
    if (!in_words || !out_words) th_printf("e-[accelerator: no memory the DMA can reach for %d bytes]\r\n", IN_BYTES + OUT_BYTES);
    else if (axi_dma_init(ACCEL_DMA_BASE) != 0)
        th_printf("e-[accelerator: the AXI DMA at 0x%08lx does not leave reset]\r\n", (unsigned long)ACCEL_DMA_BASE);
}

void accel_run(const int32_t *in, int64_t *out) {
    uint32_t status = 1;
    if (in_words && out_words) {
        for (int i = 0; i < ACCEL_N_IN; ++i) in_words[i] = in[i];
        hal_dcache_flush(in_words, IN_BYTES);
        hal_dcache_invalidate(out_words, OUT_BYTES);
        status = axi_dma_transfer(ACCEL_DMA_BASE, in_words, IN_BYTES, out_words, OUT_BYTES);
        if (status) th_printf("e-[accelerator: AXI DMA failed (DMASR 0x%08lx)]\r\n", (unsigned long)status);
        hal_dcache_invalidate(out_words, OUT_BYTES); /* lines the CPU may have fetched while the DMA wrote */
    }
    for (int i = 0; i < ACCEL_N_OUT; ++i) out[i] = status ? 0 : (int64_t)out_words[i];
}
