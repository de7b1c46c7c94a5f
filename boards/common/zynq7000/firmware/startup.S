/*
 * Cortex-A9 (Zynq-7000 PS) reset code for bare-metal firmware loaded into DDR (by the FSBL on the
 * board, by `-kernel` in QEMU): vector table, CPU 1 parked, VFP on (the firmware is hard-float),
 * stack, zeroed .bss, the C++ static constructors (.init_array), main().
 */
    .section .vectors, "ax"
    .arm
    .global _start
_start:
    b reset
    b hang          /* undefined instruction */
    b hang          /* SVC */
    b hang          /* prefetch abort */
    b hang          /* data abort */
    b hang          /* reserved */
    b hang          /* IRQ: the firmware polls, interrupts stay off */
    b hang          /* FIQ */

    .text
reset:
    mrc p15, 0, r0, c0, c0, 5       /* MPIDR: only CPU 0 runs the firmware */
    ands r0, r0, #3
    bne hang
    cpsid if
    ldr r0, =_start                 /* VBAR: our vectors (32-byte aligned by the linker script) */
    mcr p15, 0, r0, c12, c0, 0
    mrc p15, 0, r0, c1, c0, 2       /* CPACR: full access to CP10/CP11 (VFP) */
    orr r0, r0, #(0xF << 20)
    mcr p15, 0, r0, c1, c0, 2
    isb
    mov r0, #0x40000000             /* FPEXC.EN */
    vmsr fpexc, r0
    ldr sp, =_stack_top
    ldr r0, =__bss_start
    ldr r1, =__bss_end
    mov r2, #0
1:  cmp r0, r1
    strlo r2, [r0], #4
    blo 1b
    ldr r4, =__init_array_start     /* C++ dynamic initialisation (an accelerator model in C++), as crt0 */
    ldr r5, =__init_array_end
2:  cmp r4, r5
    bhs 3f
    ldr r3, [r4], #4
    blx r3
    b 2b
3:  bl main
hang:
    wfe
    b hang
