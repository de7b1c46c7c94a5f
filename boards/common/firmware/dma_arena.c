/*
 * hal_dma_buffer for bare metal: buffers for the data movers out of one static arena, which the
 * linker places in DDR with everything else (the address the CPU uses is the bus address). Every
 * bare-metal build links it (boards/firmware.py build_cross).
 */
#include "hal_dma.h"

#ifndef HAL_DMA_ARENA_BYTES
#define HAL_DMA_ARENA_BYTES (64 * 1024) /* CNV's 3072 float inputs are the largest: 12 KB */
#endif

static uint8_t arena[HAL_DMA_ARENA_BYTES] __attribute__((aligned(HAL_DMA_ALIGN)));
static uint32_t used;

void *hal_dma_buffer(uint32_t len) {
    uint32_t size = HAL_DMA_BYTES(len);
    if (size > HAL_DMA_ARENA_BYTES - used) return 0;
    void *p = arena + used;
    used += size;
    return p;
}
