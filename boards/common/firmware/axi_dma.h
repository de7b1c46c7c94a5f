/*
 * The Xilinx AXI DMA (PG021) in simple mode, the data mover between DDR and an accelerator's AXI
 * streams: hls4ml's board design on the Pynq-Z2 and our MicroBlaze design on the Arty A7.
 */
#ifndef AXI_DMA_H
#define AXI_DMA_H

#include <stdint.h>

/* Reset both channels and start them; 0, or -1 when the reset does not complete. */
int axi_dma_init(uintptr_t base);
/* Stream src_len bytes of src to the accelerator and dst_len bytes of its output into dst, and
 * wait for both; 0, or the DMASR of the channel that failed or timed out (never 0 then).
 * The caller has flushed src and dropped dst from the data cache. */
uint32_t axi_dma_transfer(uintptr_t base, const void *src, uint32_t src_len, void *dst, uint32_t dst_len);

#endif
