/*
 * AXI DMA simple mode (PG021): the register offsets and bits used, and the order that matters:
 * the S2MM (stream to memory) channel is armed before MM2S starts streaming, so the output
 * always has somewhere to go; a write of LENGTH starts a channel. Addresses are 32 bits (both
 * boards' designs), so the MSB registers are not there.
 */
#include "axi_dma.h"

#include "hal_dma.h"

#define MM2S_DMACR 0x00
#define MM2S_DMASR 0x04
#define MM2S_SA 0x18
#define MM2S_LENGTH 0x28
#define S2MM_DMACR 0x30
#define S2MM_DMASR 0x34
#define S2MM_DA 0x48
#define S2MM_LENGTH 0x58

#define DMACR_RS (1u << 0)
#define DMACR_RESET (1u << 2)
#define DMASR_HALTED (1u << 0)
#define DMASR_IDLE (1u << 1)
#define DMASR_ERRORS (0x7u << 4) /* DMAIntErr, DMASlvErr, DMADecErr */
#define DMASR_IOC_IRQ (1u << 12)
#define DMASR_ERR_IRQ (1u << 14)

/* Polls before giving up: far beyond any inference here (a reply line may take 30 s anyway). */
#define POLLS 100000000u

#define REG(r, off) (r)[(off) / 4]

int axi_dma_init(uintptr_t base) {
    volatile uint32_t *r = hal_regs(base);
    REG(r, MM2S_DMACR) = DMACR_RESET; /* resets both channels */
    for (uint32_t n = 0; REG(r, MM2S_DMACR) & DMACR_RESET; ++n)
        if (n == POLLS) return -1;
    REG(r, S2MM_DMACR) = DMACR_RS;
    REG(r, MM2S_DMACR) = DMACR_RS;
    return 0;
}

static uint32_t wait_idle(volatile uint32_t *r, uint32_t status_offset) {
    for (uint32_t n = 0; n < POLLS; ++n) {
        uint32_t sr = REG(r, status_offset);
        if (sr & DMASR_ERRORS) return sr;
        if (sr & DMASR_IDLE) {
            REG(r, status_offset) = DMASR_IOC_IRQ | DMASR_ERR_IRQ; /* write-1-to-clear */
            return 0;
        }
    }
    return REG(r, status_offset) | 0x80000000u; /* timed out: still marked failed if the status reads 0 */
}

uint32_t axi_dma_transfer(uintptr_t base, const void *src, uint32_t src_len, void *dst, uint32_t dst_len) {
    volatile uint32_t *r = hal_regs(base);
    REG(r, S2MM_DMACR) = DMACR_RS;
    REG(r, S2MM_DA) = hal_bus_address(dst);
    REG(r, S2MM_LENGTH) = dst_len;
    REG(r, MM2S_DMACR) = DMACR_RS;
    REG(r, MM2S_SA) = hal_bus_address(src);
    REG(r, MM2S_LENGTH) = src_len;
    uint32_t failed = wait_idle(r, MM2S_DMASR);
    return failed ? failed : wait_idle(r, S2MM_DMASR);
}
