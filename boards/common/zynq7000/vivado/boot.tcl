# The Zynq first-stage bootloader (FSBL) for a Zynq-7000 board's hardware platform, with the standalone
# BSP: the first partition of BOOT.BIN (bootgen), which sets up the PS from the XSA's ps7_init
# (clocks, DDR, MIO), loads the bitstream and starts our bare-metal firmware.
#
#   xsct boot.tcl -xsa PLATFORM.xsa -out_dir DIR [-processor ps7_cortexa9_0]
#
# Writes DIR/fsbl.elf (and DIR/fsbl/, the generated sources and BSP).

set here [file dirname [file normalize [info script]]]
source [file join $here .. .. vivado tclargs.tcl]
require_tool xsct boot.tcl {hsi::open_hw_design hsi::generate_app}

set options [parse_tclargs $argv {xsa out_dir} {processor ps7_cortexa9_0}]
dict with options {}

file mkdir $out_dir
set design [hsi::open_hw_design $xsa]
hsi::generate_app -hw $design -os standalone -proc $processor -app zynq_fsbl -sw fsbl -compile \
    -dir [file join $out_dir fsbl]
hsi::close_hw_design $design
set built [file join $out_dir fsbl executable.elf]
if {![file exists $built]} {
    error "the FSBL did not build: see [file join $out_dir fsbl]"
}
file copy -force $built [file join $out_dir fsbl.elf]
puts "boot.tcl: wrote [file join $out_dir fsbl.elf]"
