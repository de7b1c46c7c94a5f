/*
 * What an accelerator driver needs from a board's HAL: its registers, and buffers a data mover
 * reads or writes behind the CPU's data cache. Bare metal maps both 1:1 (hal_zynq.c,
 * hal_microblaze.c, dma_arena.c); PYNQ Linux maps them through /dev/mem (hal_linux.c). The order
 * of the calls is the driver's (accel_*_board.c, axi_dma.c).
 */
#ifndef HAL_DMA_H
#define HAL_DMA_H

#include <stdint.h>

/* The 32-bit registers of a peripheral at bus address base. */
volatile uint32_t *hal_regs(uintptr_t base);
/* len bytes a data mover can reach, starting on a cache line, for the life of the program (taken
 * once, in accel_init); NULL when there is no such memory left. */
void *hal_dma_buffer(uint32_t len);
/* The address a data mover on the fabric uses for p (p within a hal_dma_buffer). */
uint32_t hal_bus_address(const void *p);
/* Write back the lines of [p, p + len) to memory, before a data mover reads them. */
void hal_dcache_flush(const void *p, uint32_t len);
/* Drop the lines of [p, p + len), before the CPU reads what a data mover wrote there. */
void hal_dcache_invalidate(void *p, uint32_t len);

/* Buffers for data movers start on a cache line and fill whole lines, so that flushing or
 * dropping them touches nothing else (64 bytes: a multiple of both processors' lines). */
#define HAL_DMA_ALIGN 64
#define HAL_DMA_BYTES(n) ((((n) + HAL_DMA_ALIGN - 1) / HAL_DMA_ALIGN) * HAL_DMA_ALIGN)

#endif
