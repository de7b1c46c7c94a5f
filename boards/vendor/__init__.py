"""A board's vendor steps beyond the toolchains' own builds: the Vivado and xsct scripts with their
arguments taken from board.yaml (so that the hardware puts every peripheral where the firmware is
built to find it), boot images, and programming a board over JTAG or into its flash.

A step of a vendor tool (vivado, xsct, bootgen, updatemem, program_flash) runs where the tool is on
PATH; elsewhere it raises ToolMissing naming the tool and the step, and nothing stands in for its
output. What runs anywhere: the argument lists and the BIF, the bootloader (the board's own cross
compiler) and the flash image.

    steps.py              a tool step: command, tools, require, run; Tcl quoting and -tclargs
    board_values.py       the firmware's addresses and clocks as numbers, the JTAG device, our system
    ip.py                 the IP its toolchain declares (toolchains/base.py AcceleratorIp) as a block
                          design instantiates it (IP-XACT reading)
    microblaze_design.py  the MicroBlaze block design's values (the Arty A7): arguments, address check
    zynq_design.py        our Zynq-7000 design's values (a Zynq board no toolchain has a shell for)
    bootloader.py         the MicroBlaze flash bootloader, in the local BRAM
    images.py             ELF segments, the firmware image the bootloader reads, bootgen's BIF
    zynq.py               the Zynq-7000 steps: XSA export of a toolchain's own design (ShellDesign),
                          FSBL, BOOT.BIN, QSPI flash, JTAG, shared by the Zynq plans
    plans/<kind>.py       the programming plan of each kind of board, chosen by board.yaml vivado.plan:
                          microblaze_system (our MicroBlaze block design: the Arty A7),
                          zynq_ps7 (a toolchain's Zynq shell: the Pynq-Z2),
                          zynq_system (our Zynq design around the IP)
    program.py            program(): a board's plan, its tools checked first, then its actions
"""
