# Program the Arty A7 over JTAG with xsct: the bitstream, then the firmware ELF into the
# MicroBlaze (its vectors into the local BRAM, the rest into DDR), and run it. Nothing is written
# to the flash: a power cycle boots whatever the flash holds.
#
#   xsct program_jtag.tcl -bit B.bit -elf firmware.elf -device xc7a100t [-hw_server TCP:127.0.0.1:3121]

set here [file dirname [file normalize [info script]]]
source [file join $here .. .. common vivado tclargs.tcl]
require_tool xsct program_jtag.tcl {connect targets fpga dow con}

set options [parse_tclargs $argv {bit elf device} {hw_server TCP:127.0.0.1:3121}]
dict with options {}

connect -url $hw_server
targets -set -nocase -filter "name =~ \"${device}*\""
fpga -file $bit
# the MicroBlaze appears on the chain once the bitstream (with its debug module) is loaded
after 500
targets -set -nocase -filter {name =~ "*MicroBlaze #0*"}
rst -processor
dow $elf
con
puts "program_jtag.tcl: $bit loaded, $elf running"
