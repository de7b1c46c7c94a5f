/*
 * MicroBlaze reset code (the Xilinx crt0 vector layout: reset 0x00, user exception 0x08,
 * interrupt 0x10, hardware exception 0x20, each a `brai`), then small-data bases, stack, zeroed
 * .bss and main(). The vectors sit in the local BRAM at 0x0; everything else in DDR.
 */
    .section .vectors.reset, "ax"
    .globl _start
_start:
    brai _start1
    .section .vectors.sw_exception, "ax"
    brai _hang
    .section .vectors.interrupt, "ax"
    brai _hang
    .section .vectors.hw_exception, "ax"
    brai _hang

    .text
_start1:
#ifdef MB_CACHE_BYTES
    /* The caches over DDR (board.yaml MB_CACHE_BYTES, the block design's) hold anything at reset and
     * after the bootloader copied this program into DDR: every line invalidated while they are off
     * (wic, wdc), then both turned on (MSR ICE 0x20, DCE 0x80). */
    addik r3, r0, DDR_BASE
    addik r4, r0, DDR_BASE + MB_CACHE_BYTES
3:  wic r3, r0
    wdc r3, r0
    addik r3, r3, MB_DCACHE_LINE_BYTES
    cmpu r5, r4, r3             /* negative while r3 < r4 (unsigned) */
    blti r5, 3b
    mfs r5, rmsr
    ori r5, r5, 0xA0
    mts rmsr, r5
    nop
#endif
    addik r13, r0, _SDA_BASE_
    addik r2, r0, _SDA2_BASE_
    addik r1, r0, _stack_top-16
    addik r3, r0, __bss_start
    addik r4, r0, __bss_end
1:  cmpu r5, r4, r3             /* r5 = r3 - r4, negative while r3 < r4 (unsigned) */
    bgei r5, 2f
    swi r0, r3, 0
    addik r3, r3, 4
    bri 1b
2:  brlid r15, main
    nop
    .globl _exit
_exit:
_hang:
    bri _hang
