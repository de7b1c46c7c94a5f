/*
 * The FINN accelerator on a board, behind accel.h: the firmware's integers packed into FINN's
 * stream layout (finn_pack.c), moved by FINN's own IODMA data movers (its Zynq shell: the
 * Pynq-Z2, FINN_IODMA) or by the AXI DMA of our block design (the Arty A7), and unpacked.
 * IODMA registers as FINN's PYNQ driver uses them: 0x00 control (bit 0 start, bit 1 done),
 * 0x10/0x14 buffer address low/high, 0x1C repetitions; the output mover starts first.
 */
#include <math.h>

#include "accel.h"
#include "finn_pack.h"
#include "hal_dma.h"
#include "th_api.h"

#if FINN_N_IN_VALUES != ACCEL_N_IN || FINN_N_OUT_VALUES != ACCEL_N_OUT
#error "finn_io.h and accel_model.h disagree on the model's sizes"
#endif

static uint8_t *in_words, *out_words; /* from hal_dma_buffer */

static int buffers(void) {
    in_words = hal_dma_buffer(FINN_IN_BYTES);
    out_words = hal_dma_buffer(FINN_OUT_BYTES);
    if (in_words && out_words) return 0;
    th_printf("e-[accelerator: no memory the data movers can reach for %d bytes]\r\n", FINN_IN_BYTES + FINN_OUT_BYTES);
    return -1;
}

#if FINN_IODMA
#define POLLS 100000000u

static void start_mover(uintptr_t base, const void *buffer) {
    volatile uint32_t *r = hal_regs(base);
    r[0x10 / 4] = hal_bus_address(buffer);
    r[0x14 / 4] = 0;
    r[0x1C / 4] = 1;
    r[0x00 / 4] = 1;
}

void accel_init(void) { buffers(); }

static int move(void) {
    start_mover(FINN_ODMA_BASE, out_words);
    start_mover(FINN_IDMA_BASE, in_words);
    volatile uint32_t *odma = hal_regs(FINN_ODMA_BASE);
    for (uint32_t n = 0; n < POLLS; ++n)
        if (odma[0] & 2u) return 0;
    th_printf("e-[accelerator: FINN's output data mover did not finish (control 0x%08lx)]\r\n", (unsigned long)odma[0]);
    return -1;
}
#else
#include "axi_dma.h"

void accel_init(void) {
    if (buffers() == 0 && axi_dma_init(ACCEL_DMA_BASE) != 0)
        th_printf("e-[accelerator: the AXI DMA at 0x%08lx does not leave reset]\r\n", (unsigned long)ACCEL_DMA_BASE);
}

static int move(void) {
    uint32_t status = axi_dma_transfer(ACCEL_DMA_BASE, in_words, FINN_IN_BYTES, out_words, FINN_OUT_BYTES);
    if (status) th_printf("e-[accelerator: AXI DMA failed (DMASR 0x%08lx)]\r\n", (unsigned long)status);
    return status ? -1 : 0;
}
#endif

void accel_run(const int32_t *in, int64_t *out) {
    double y[FINN_N_OUT_VALUES];
    int ok = in_words && out_words;
    if (ok) {
        finn_pack_input(in, in_words);
        hal_dcache_flush(in_words, FINN_IN_BYTES);
        hal_dcache_invalidate(out_words, FINN_OUT_BYTES);
        ok = move() == 0;
    }
    if (ok) {
        hal_dcache_invalidate(out_words, FINN_OUT_BYTES); /* lines the CPU may have fetched while the mover wrote */
        finn_unpack_output(out_words, y);
    } else {
        for (int i = 0; i < FINN_N_OUT_VALUES; ++i) y[i] = 0.0;
    }
    for (int i = 0; i < FINN_N_OUT_VALUES; ++i) out[i] = llround(ldexp(y[i], ACCEL_OUT_FRAC));
}
