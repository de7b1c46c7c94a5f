# Our Zynq-7000 design around the accelerator, for a Zynq board no toolchain has a shell for: the
# PS (processing_system7) as the board files' preset sets it up (DDR, MIO, the USB-UART), with the
# clocks the firmware counts in (the CPU at twice GTIMER_HZ, the UART reference, FCLK0 for the
# fabric), GPIO on the MIO pins no peripheral takes (the timestamp pin), and an AXI DMA in simple
# mode between DDR (S_AXI_HP0) and the accelerator's AXI streams (the IP its toolchain declares;
# boards/common/vivado/accelerator.tcl), its registers on M_AXI_GP0. The energy design routes the
# firmware's PS UART through EMIO to Pmod pins (to the interface board) instead of its MIO pins.
# Then synthesis, implementation, the bitstream and the hardware platform (XSA, with the ps7_init
# the JTAG programming runs and the FSBL is built from).
#
#   vivado -mode batch -source block_design.tcl -tclargs -out_dir DIR -ip_repos {DIR ...} ...
#
# boards/vendor/zynq_design.py writes the arguments from board.yaml. Writes to -out_dir: <name>.bit,
# <name>.xsa, addresses.txt (the map as assigned), constraints.xdc and the Vivado project in project/.

set here [file dirname [file normalize [info script]]]
source [file join $here .. .. vivado tclargs.tcl]
source [file join $here .. .. vivado accelerator.tcl]
source [file join $here .. .. vivado design.tcl]
require_tool vivado block_design.tcl {create_bd_design apply_bd_automation}

set options [parse_tclargs $argv {
    out_dir part board_part ip_repos ip_vlnv ip_stream_in ip_stream_out ip_clock ip_reset
    fabric_hz cpu_hz uart uart_ref_hz uart_pins timestamp_mio dma_base
} {name zynq_system last_after 0 energy_uart_tx {} energy_uart_rx {} jobs 2}]
dict with options {}

if {$uart_pins ni {board pmod}} {
    error "-uart_pins is board (the UART's MIO pins, the USB-UART) or pmod (through EMIO to -energy_uart_tx/-energy_uart_rx), not '$uart_pins'"
}
require_energy_uart_pins $uart_pins $energy_uart_tx $energy_uart_rx
if {$uart ni {0 1}} {
    error "-uart is the PS UART the firmware drives, 0 or 1, not '$uart'"
}

# ---- helpers -----------------------------------------------------------------------------------

# The frequency the PS makes for a clock (its CONFIG.PCW_ACT_* property, in MHz), checked against
# the one the firmware counts in (Hz).
proc check_clock {what property want_hz} {
    set mhz [get_property CONFIG.$property [get_bd_cells ps7]]
    if {![string is double -strict $mhz]} {
        error "cannot read the PS's $what (CONFIG.$property is '$mhz')"
    }
    if {abs($mhz * 1e6 - $want_hz) > $want_hz / 1000.0} {
        error "the PS makes $mhz MHz for the $what but the firmware counts [expr {$want_hz / 1e6}] MHz (board.yaml):\
               choose a frequency it can make"
    }
}

# The proc_sys_reset whose clock is `clock` (an automation made it): the resets of that domain.
proc reset_of_clock {clock} {
    set found [get_bd_cells -quiet -of_objects [get_bd_pins -quiet -of_objects [get_bd_nets -of_objects [get_bd_pins $clock]] \
        -filter {NAME == slowest_sync_clk}]]
    if {[llength $found] != 1} { error "expected one proc_sys_reset clocked by $clock, found '$found'" }
    return $found
}

# ---- project -----------------------------------------------------------------------------------

file mkdir $out_dir
create_project -force $name [file join $out_dir project] -part $part
if {[llength [get_board_parts -quiet $board_part]] == 0} {
    error "Vivado does not know the board $board_part: install its board files (Vivado's board store, or the vendor's)"
}
set_property board_part $board_part [current_project]
set_property ip_repo_paths $ip_repos [current_project]
update_ip_catalog
create_bd_design $name

# ---- the PS ------------------------------------------------------------------------------------

create_bd_cell -type ip -vlnv xilinx.com:ip:processing_system7 ps7
apply_bd_automation -rule xilinx.com:bd_rule:processing_system7 \
    -config {make_external "FIXED_IO, DDR" apply_board_preset "1" Master "Disable" Slave "Disable"} [get_bd_cells ps7]
set ps [list CONFIG.PCW_USE_M_AXI_GP0 1 CONFIG.PCW_USE_S_AXI_HP0 1 CONFIG.PCW_EN_CLK0_PORT 1 CONFIG.PCW_EN_RST0_PORT 1 \
    CONFIG.PCW_FPGA0_PERIPHERAL_FREQMHZ [format %.3f [expr {$fabric_hz / 1e6}]] \
    CONFIG.PCW_APU_PERIPHERAL_FREQMHZ [format %.3f [expr {$cpu_hz / 1e6}]] \
    CONFIG.PCW_UART_PERIPHERAL_FREQMHZ [format %.3f [expr {$uart_ref_hz / 1e6}]] \
    CONFIG.PCW_UART${uart}_PERIPHERAL_ENABLE 1 CONFIG.PCW_GPIO_MIO_GPIO_ENABLE 1]
if {$uart_pins eq "pmod"} {
    lappend ps CONFIG.PCW_UART${uart}_UART${uart}_IO EMIO
}
set_property -dict $ps [get_bd_cells ps7]
# the firmware counts time in global timer ticks (half the CPU clock) and sets its baud rate from
# the UART's reference clock: the PS must make both exactly
check_clock "CPU clock" PCW_ACT_APU_PERIPHERAL_FREQMHZ $cpu_hz
check_clock "UART reference clock" PCW_ACT_UART_PERIPHERAL_FREQMHZ $uart_ref_hz
check_clock "fabric clock (FCLK0)" PCW_ACT_FPGA0_PERIPHERAL_FREQMHZ $fabric_hz
set mio [get_property CONFIG.PCW_MIO_${timestamp_mio}_PERIPHERAL [get_bd_cells ps7]]
if {![string match -nocase "*GPIO*" $mio]} {
    error "MIO $timestamp_mio (the timestamp pin, TIMESTAMP_MIO_PIN) is '$mio' in the board's PS preset, not GPIO"
}
if {$uart_pins eq "pmod"} {
    create_bd_intf_port -mode Master -vlnv xilinx.com:interface:uart_rtl:1.0 energy_uart
    connect_bd_intf_net [get_bd_intf_pins ps7/UART_${uart}] [get_bd_intf_ports energy_uart]
}

# ---- the accelerator, its DMA, the AXI connections ---------------------------------------------

set clocked [add_accelerator $ip_vlnv $ip_stream_in $ip_stream_out $ip_clock $ip_reset $last_after]
apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config {Clk_master Auto Clk_slave Auto Clk_xbar Auto \
    Master /ps7/M_AXI_GP0 Slave /axi_dma_0/S_AXI_LITE intc_ip New master_apm 0} [get_bd_intf_pins axi_dma_0/S_AXI_LITE]
foreach master {axi_dma_0/M_AXI_MM2S axi_dma_0/M_AXI_S2MM} {
    apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config [list Clk_master Auto Clk_slave Auto Clk_xbar Auto \
        Master /$master Slave /ps7/S_AXI_HP0 intc_ip Auto master_apm 0] [get_bd_intf_pins ps7/S_AXI_HP0]
}
set system_reset [reset_of_clock ps7/FCLK_CLK0]
foreach {clock reset} $clocked {
    connect_bd_net [get_bd_pins ps7/FCLK_CLK0] [get_bd_pins $clock]
    connect_bd_net [get_bd_pins $system_reset/peripheral_aresetn] [get_bd_pins $reset]
}

# The automation puts the DMA's registers where it likes: at the firmware's address instead (the
# data movers reach DDR through S_AXI_HP0 as the automation mapped it).
set data ps7/Data
set assigned [get_bd_addr_segs -quiet -of_objects [get_bd_addr_spaces $data]]
if {[llength $assigned]} { delete_bd_objs $assigned }
set registers [get_bd_addr_segs -quiet axi_dma_0/S_AXI_LITE/Reg]
if {[llength $registers] != 1} {
    error "expected the address segment axi_dma_0/S_AXI_LITE/Reg, found '$registers'"
}
assign_bd_address -target_address_space [get_bd_addr_spaces $data] -offset $dma_base -range 64K $registers -force

validate_bd_design
save_bd_design

write_address_report $out_dir [list $data axi_dma_0/Data_MM2S axi_dma_0/Data_S2MM]

# ---- constraints, implementation, outputs ------------------------------------------------------

set xdc [file join $out_dir constraints.xdc]
set constraints [open $xdc w]
puts $constraints [energy_uart_constraints $uart_pins $energy_uart_tx $energy_uart_rx]
close $constraints
add_files -fileset constrs_1 -norecurse $xdc

implement_design $name $fabric_hz $jobs
save_bitstream $name $out_dir
write_hw_platform -fixed -include_bit -force -file [file join $out_dir $name.xsa]
puts "block_design.tcl: wrote $name.bit, $name.xsa in $out_dir"
