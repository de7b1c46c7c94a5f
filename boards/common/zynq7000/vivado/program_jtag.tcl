# Program a Zynq-7000 board over JTAG with xsct, as Vitis's debug launch does: reset the system, load
# the bitstream, initialise the PS with the hardware platform's ps7_init (clocks, DDR, MIO; the
# FSBL's job when booting from SD or flash), download the firmware ELF to CPU 0 and run it.
#
#   xsct program_jtag.tcl -bit B.bit -xsa PLATFORM.xsa -ps7_init ps7_init.tcl -elf firmware.elf \
#        [-hw_server TCP:127.0.0.1:3121]

set here [file dirname [file normalize [info script]]]
source [file join $here .. .. vivado tclargs.tcl]
require_tool xsct program_jtag.tcl {connect targets fpga loadhw dow con}

set options [parse_tclargs $argv {bit xsa ps7_init elf} {hw_server TCP:127.0.0.1:3121}]
dict with options {}

connect -url $hw_server
targets -set -nocase -filter {name =~ "APU*"}
rst -system
after 1000
fpga -file $bit
targets -set -nocase -filter {name =~ "APU*"}
loadhw -hw $xsa -mem-ranges [list {0x40000000 0xbfffffff}]
configparams force-mem-access 1
source $ps7_init
ps7_init
ps7_post_config
targets -set -nocase -filter {name =~ "*A9*#0"}
rst -processor
dow $elf
configparams force-mem-access 0
con
puts "program_jtag.tcl: $bit loaded, $elf running on CPU 0"
