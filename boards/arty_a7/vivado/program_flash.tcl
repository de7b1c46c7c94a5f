# Write the .mcs that flash.tcl made into the Arty A7's configuration flash over JTAG (Vivado's
# hardware manager, through hw_server), then boot the FPGA from it as at power-on.
#
#   vivado -mode batch -source program_flash.tcl -tclargs -mcs F.mcs -device xc7a100t \
#          -cfgmem_part s25fl128sxxxxxx0-spi-x1_x2_x4 [-hw_server localhost:3121]

set here [file dirname [file normalize [info script]]]
source [file join $here .. .. common vivado tclargs.tcl]
require_tool vivado program_flash.tcl {open_hw_manager program_hw_cfgmem}

set options [parse_tclargs $argv {mcs device cfgmem_part} {hw_server localhost:3121}]
dict with options {}

open_hw_manager
connect_hw_server -url $hw_server
open_hw_target
set fpga [lindex [get_hw_devices -quiet ${device}*] 0]
if {$fpga eq ""} {
    error "no $device on the JTAG chain of $hw_server: is the board connected and powered?"
}
current_hw_device $fpga
refresh_hw_device -update_hw_probes false $fpga
set part [lindex [get_cfgmem_parts $cfgmem_part] 0]
if {$part eq ""} {
    error "Vivado does not know the flash part $cfgmem_part (board.yaml vivado.system.flash.cfgmem_part)"
}
set cfgmem [create_hw_cfgmem -hw_device $fpga -mem_dev $part]
set_property PROGRAM.ADDRESS_RANGE use_file $cfgmem
set_property PROGRAM.FILES [list $mcs] $cfgmem
set_property PROGRAM.PRM_FILE {} $cfgmem
set_property PROGRAM.UNUSED_PIN_TERMINATION pull-none $cfgmem
set_property PROGRAM.BLANK_CHECK 0 $cfgmem
set_property PROGRAM.ERASE 1 $cfgmem
set_property PROGRAM.CFG_PROGRAM 1 $cfgmem
set_property PROGRAM.VERIFY 1 $cfgmem
set_property PROGRAM.CHECKSUM 0 $cfgmem
# the flash is reached through a small bitstream of Vivado's own, loaded first
create_hw_bitstream -hw_device $fpga [get_property PROGRAM.HW_CFGMEM_BITFILE $fpga]
program_hw_devices $fpga
refresh_hw_device $fpga
program_hw_cfgmem -hw_cfgmem $cfgmem
boot_hw_device $fpga
close_hw_target
disconnect_hw_server
close_hw_manager
puts "program_flash.tcl: wrote $mcs to the $cfgmem_part and booted the $device from it"
