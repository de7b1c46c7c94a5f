# The hardware platform (XSA, with the bitstream) of an implemented Vivado project: what xsct
# builds the Zynq FSBL from (boot.tcl) and what holds the PS initialisation (ps7_init.tcl) the
# JTAG programming runs. A toolchain's own Zynq design (FINN's Zynq shell) leaves a project with a
# bitstream but exports no XSA itself.
#
#   vivado -mode batch -source export_xsa.tcl -tclargs -xpr PROJECT.xpr -xsa OUT.xsa

set here [file dirname [file normalize [info script]]]
source [file join $here .. .. vivado tclargs.tcl]
require_tool vivado export_xsa.tcl {open_project write_hw_platform}

set options [parse_tclargs $argv {xpr xsa}]
dict with options {}

open_project $xpr
if {[get_property PROGRESS [get_runs impl_1]] ne "100%"} {
    error "$xpr has no finished implementation (impl_1): build its bitstream first"
}
open_run impl_1
write_hw_platform -fixed -include_bit -force -file $xsa
close_project
puts "export_xsa.tcl: wrote $xsa"
