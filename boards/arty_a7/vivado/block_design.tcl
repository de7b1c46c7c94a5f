# The Arty A7-100T system around the accelerator: MicroBlaze (LMB BRAM; instruction and data caches
# over DDR and the FPU where the firmware is built for them, as the published hls4ml-FINN design), DDR3 through
# the MIG (the board files' preset), AXI UART Lite, AXI Timer (two counters, cascaded by the
# firmware), AXI GPIO (the timestamp pin), AXI Quad SPI in XIP mode (the flash the bootloader
# reads), and an AXI DMA in simple mode between DDR and the accelerator's AXI streams (the IP its
# toolchain declares; boards/common/vivado/accelerator.tcl). Then synthesis, implementation, the
# bitstream, the BRAM map for updatemem and the hardware platform (XSA).
#
#   vivado -mode batch -source block_design.tcl -tclargs -out_dir DIR -ip_repos {DIR ...} ...
#
# boards/vendor/microblaze_design.py writes the arguments from board.yaml: every peripheral sits at
# the address the firmware is built with (firmware.defines, fabric_addresses). The processor, its
# peripherals and the accelerator run on one clock made here at the firmware's TIMER_HZ (83.33 MHz),
# not on the MIG's ui_clk: that one follows the board files' memory preset (81.25 MHz with a 3077 ps
# DDR3 clock, 83.33 MHz with 3000 ps), and the interconnect crosses to it. Writes to -out_dir:
# <name>.bit, <name>.mmi, <name>.xsa, addresses.txt (the map as assigned), constraints.xdc and the
# Vivado project in project/.

set here [file dirname [file normalize [info script]]]
source [file join $here .. .. common vivado tclargs.tcl]
source [file join $here .. .. common vivado accelerator.tcl]
source [file join $here .. .. common vivado design.tcl]
require_tool vivado block_design.tcl {create_bd_design apply_bd_automation}

set options [parse_tclargs $argv {
    out_dir part board_part ip_repos ip_vlnv ip_stream_in ip_stream_out ip_clock ip_reset
    clock_hz local_memory_kb microblaze_config cache_bytes cache_line_bytes ddr_base ddr_bytes uart_base uart_baud uart_pins
    timer_base gpio_base dma_base flash_regs_base flash_xip_base flash_mb flash_memory timestamp_pin
} {name mb_system last_after 0 energy_uart_tx {} energy_uart_rx {} jobs 2}]
dict with options {}

if {$uart_pins ni {usb pmod}} {
    error "-uart_pins is usb (the USB-UART) or pmod (the energy design's, on -energy_uart_tx/-energy_uart_rx), not '$uart_pins'"
}
require_energy_uart_pins $uart_pins $energy_uart_tx $energy_uart_rx

# ---- helpers -----------------------------------------------------------------------------------

# Connect the pin `sink` to `source` (a pin, or else a port of the design) unless an automation
# has connected it already.
proc connect_if_free {source sink} {
    if {[llength [get_bd_nets -quiet -of_objects [get_bd_pins $sink]]]} {
        return 0
    }
    set driver [get_bd_pins -quiet $source]
    if {$driver eq ""} { set driver [get_bd_ports $source] }
    connect_bd_net $driver [get_bd_pins $sink]
    return 1
}

# Map the slave address segment `segment` at offset/range in each master address space.
proc place {spaces segment offset range} {
    set found [get_bd_addr_segs -quiet $segment]
    if {[llength $found] != 1} {
        error "expected the address segment $segment, found '$found'"
    }
    foreach space $spaces {
        assign_bd_address -target_address_space [get_bd_addr_spaces $space] -offset $offset -range $range $found -force
    }
}

# ---- project -----------------------------------------------------------------------------------

file mkdir $out_dir
create_project -force $name [file join $out_dir project] -part $part
if {[llength [get_board_parts -quiet $board_part]] == 0} {
    error "Vivado does not know the board $board_part: install Digilent's board files (github.com/Digilent/vivado-boards)"
}
set_property board_part $board_part [current_project]
set_property ip_repo_paths $ip_repos [current_project]
update_ip_catalog
create_bd_design $name

# ---- clocks, DDR3, reset -----------------------------------------------------------------------

# One clocking wizard on the board's 100 MHz oscillator: the MIG's system and reference clocks at
# what its preset expects, and the system clock.
create_bd_cell -type ip -vlnv xilinx.com:ip:clk_wiz clk_wiz_0
apply_board_connection -board_interface sys_clock -ip_intf clk_wiz_0/clock_CLK_IN1 -diagram $name
apply_bd_automation -rule xilinx.com:bd_rule:board \
    -config {Board_Interface {reset ( System Reset ) } Manual_Source {New External Port (ACTIVE_LOW)}} \
    [get_bd_pins clk_wiz_0/resetn]

create_bd_cell -type ip -vlnv xilinx.com:ip:mig_7series mig_7series_0
apply_board_connection -board_interface ddr3_sdram -ip_intf mig_7series_0/mig_ddr_interface -diagram $name
# The board connection gives the MIG clock ports of its own, at the frequencies its preset wants:
# the clocking wizard makes those instead.
set mig_mhz [dict create sys_clk_i 166.667 clk_ref_i 200.000]
foreach port {sys_clk_i clk_ref_i} {
    set made [get_bd_ports -quiet $port]
    if {[llength $made]} {
        set hz [get_property CONFIG.FREQ_HZ $made]
        if {[string is double -strict $hz] && $hz > 0} { dict set mig_mhz $port [format %.3f [expr {$hz / 1e6}]] }
        delete_bd_objs [get_bd_nets -quiet -of_objects $made] $made
    }
}
set_property -dict [list CONFIG.CLKOUT2_USED true CONFIG.CLKOUT3_USED true CONFIG.RESET_TYPE ACTIVE_LOW CONFIG.RESET_PORT resetn \
    CONFIG.CLKOUT1_REQUESTED_OUT_FREQ [dict get $mig_mhz sys_clk_i] CONFIG.CLKOUT2_REQUESTED_OUT_FREQ [dict get $mig_mhz clk_ref_i] \
    CONFIG.CLKOUT3_REQUESTED_OUT_FREQ [format %.3f [expr {$clock_hz / 1e6}]]] [get_bd_cells clk_wiz_0]
connect_bd_net [get_bd_pins clk_wiz_0/clk_out1] [get_bd_pins mig_7series_0/sys_clk_i]
connect_bd_net [get_bd_pins clk_wiz_0/clk_out2] [get_bd_pins mig_7series_0/clk_ref_i]
connect_if_free reset mig_7series_0/sys_rst

# the firmware counts time in cycles of the system clock (TIMER_HZ): it must be that clock
set system_hz [get_property CONFIG.FREQ_HZ [get_bd_pins clk_wiz_0/clk_out3]]
if {![string is double -strict $system_hz]} {
    error "cannot read the system clock's frequency (clk_wiz_0/clk_out3 CONFIG.FREQ_HZ is '$system_hz')"
}
if {abs($system_hz - $clock_hz) > $clock_hz / 1000.0} {
    error "the clocking wizard makes $system_hz Hz for the system clock but the firmware counts $clock_hz Hz\
           (board.yaml firmware.defines TIMER_HZ): choose a TIMER_HZ it can make from 100 MHz"
}
set system_clock "/clk_wiz_0/clk_out3 ([expr {round($system_hz / 1e6)}] MHz)"

# The proc_sys_reset whose clock is `clock` (an automation made it): the resets of that domain.
proc reset_of_clock {clock} {
    set found [get_bd_cells -quiet -of_objects [get_bd_pins -quiet -of_objects [get_bd_nets -of_objects [get_bd_pins $clock]] \
        -filter {NAME == slowest_sync_clk}]]
    if {[llength $found] != 1} { error "expected one proc_sys_reset clocked by $clock, found '$found'" }
    return $found
}

# ---- MicroBlaze --------------------------------------------------------------------------------

create_bd_cell -type ip -vlnv xilinx.com:ip:microblaze microblaze_0
apply_bd_automation -rule xilinx.com:bd_rule:microblaze -config [list axi_intc 0 axi_periph Enabled cache None \
    clk $system_clock debug_module {Debug Only} ecc None local_mem ${local_memory_kb}KB preset None] [get_bd_cells microblaze_0]
# The caches (-cache_bytes each, 0: none) cover DDR: the firmware's crt.S invalidates and enables
# them, its HAL writes back and drops the lines of the DMA's buffers (a write-back data cache of
# -cache_line_bytes lines). Without them, instructions outside the LMB come from DDR through the
# instruction-side AXI port. The ISA options (and the FPU) match the firmware's cflags.
set ddr_high [format 0x%08X [expr {$ddr_base + $ddr_bytes - 1}]]
if {$cache_bytes > 0} {
    set microblaze_properties [list CONFIG.C_USE_ICACHE 1 CONFIG.C_USE_DCACHE 1 CONFIG.C_CACHE_BYTE_SIZE $cache_bytes \
        CONFIG.C_DCACHE_BYTE_SIZE $cache_bytes CONFIG.C_DCACHE_USE_WRITEBACK 1 \
        CONFIG.C_ICACHE_LINE_LEN [expr {$cache_line_bytes / 4}] CONFIG.C_DCACHE_LINE_LEN [expr {$cache_line_bytes / 4}] \
        CONFIG.C_ICACHE_BASEADDR $ddr_base CONFIG.C_ICACHE_HIGHADDR $ddr_high \
        CONFIG.C_DCACHE_BASEADDR $ddr_base CONFIG.C_DCACHE_HIGHADDR $ddr_high CONFIG.C_D_AXI 1 CONFIG.C_I_AXI 0]
    set memory_masters {microblaze_0/M_AXI_DC microblaze_0/M_AXI_IC}
} else {
    set microblaze_properties [list CONFIG.C_USE_ICACHE 0 CONFIG.C_USE_DCACHE 0 CONFIG.C_D_AXI 1 CONFIG.C_I_AXI 1]
    set memory_masters {microblaze_0/M_AXI_IP}
}
foreach {parameter value} $microblaze_config {
    lappend microblaze_properties CONFIG.$parameter $value
}
set_property -dict $microblaze_properties [get_bd_cells microblaze_0]

# The system domain leaves reset with the board's reset button released and the clocks locked.
set system_reset [reset_of_clock clk_wiz_0/clk_out3]
if {[connect_if_free reset $system_reset/ext_reset_in]} {
    set_property CONFIG.C_EXT_RESET_HIGH 0 [get_bd_cells $system_reset]
}
connect_if_free clk_wiz_0/locked $system_reset/dcm_locked

# ---- peripherals -------------------------------------------------------------------------------

create_bd_cell -type ip -vlnv xilinx.com:ip:axi_uartlite axi_uartlite_0
if {$uart_pins eq "usb"} {
    apply_board_connection -board_interface usb_uart -ip_intf axi_uartlite_0/UART -diagram $name
} else {
    create_bd_intf_port -mode Master -vlnv xilinx.com:interface:uart_rtl:1.0 energy_uart
    connect_bd_intf_net [get_bd_intf_pins axi_uartlite_0/UART] [get_bd_intf_ports energy_uart]
}
# the baud rate is fixed in hardware (the firmware cannot change it)
set_property CONFIG.C_BAUDRATE $uart_baud [get_bd_cells axi_uartlite_0]

create_bd_cell -type ip -vlnv xilinx.com:ip:axi_timer axi_timer_0
set_property CONFIG.enable_timer2 1 [get_bd_cells axi_timer_0]

# the timestamp pin, high from configuration on (the runners act on a falling edge)
create_bd_cell -type ip -vlnv xilinx.com:ip:axi_gpio axi_gpio_0
set_property -dict [list CONFIG.C_GPIO_WIDTH 1 CONFIG.C_ALL_OUTPUTS 1 CONFIG.C_DOUT_DEFAULT 0x00000001] [get_bd_cells axi_gpio_0]
create_bd_port -dir O -from 0 -to 0 timestamp
connect_bd_net [get_bd_pins axi_gpio_0/gpio_io_o] [get_bd_ports timestamp]

# The configuration flash, read as memory (XIP) by the bootloader; through STARTUPE2 (the board
# connection), since its clock is the FPGA's configuration clock pin.
create_bd_cell -type ip -vlnv xilinx.com:ip:axi_quad_spi axi_quad_spi_0
apply_board_connection -board_interface qspi_flash -ip_intf axi_quad_spi_0/SPI_0 -diagram $name
set_property -dict [list CONFIG.C_SPI_MEMORY $flash_memory CONFIG.C_SPI_MODE 2 CONFIG.C_XIP_MODE 1 \
    CONFIG.C_TYPE_OF_AXI4_INTERFACE 1 CONFIG.C_S_AXI4_ID_WIDTH 0 CONFIG.C_SPI_MEM_ADDR_BITS 24 CONFIG.C_SCK_RATIO 4] \
    [get_bd_cells axi_quad_spi_0]
connect_bd_net [get_bd_pins clk_wiz_0/clk_out3] [get_bd_pins axi_quad_spi_0/ext_spi_clk]

# ---- the accelerator and its DMA ---------------------------------------------------------------

set clocked [add_accelerator $ip_vlnv $ip_stream_in $ip_stream_out $ip_clock $ip_reset $last_after]
foreach {clock reset} $clocked {
    connect_bd_net [get_bd_pins clk_wiz_0/clk_out3] [get_bd_pins $clock]
    connect_bd_net [get_bd_pins $system_reset/peripheral_aresetn] [get_bd_pins $reset]
}

# ---- AXI connections and the address map -------------------------------------------------------

foreach slave {mig_7series_0/S_AXI axi_uartlite_0/S_AXI axi_timer_0/S_AXI axi_gpio_0/S_AXI axi_dma_0/S_AXI_LITE
               axi_quad_spi_0/AXI_LITE axi_quad_spi_0/AXI_FULL} {
    apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config [list Clk_master $system_clock Clk_slave Auto Clk_xbar $system_clock \
        Master {/microblaze_0 (Periph)} Slave /$slave intc_ip Auto master_apm 0] [get_bd_intf_pins $slave]
}
foreach master [list {*}$memory_masters axi_dma_0/M_AXI_MM2S axi_dma_0/M_AXI_S2MM] {
    apply_bd_automation -rule xilinx.com:bd_rule:axi4 -config [list Clk_master $system_clock Clk_slave Auto Clk_xbar $system_clock \
        Master /$master Slave /mig_7series_0/S_AXI intc_ip Auto master_apm 0] [get_bd_intf_pins $master]
}

# The MIG's AXI side resets in its own clock domain, once the memory's clocks are locked.
if {[llength [get_bd_nets -quiet -of_objects [get_bd_pins mig_7series_0/aresetn]]] == 0} {
    create_bd_cell -type ip -vlnv xilinx.com:ip:proc_sys_reset mig_reset
    set_property CONFIG.C_EXT_RESET_HIGH 1 [get_bd_cells mig_reset]
    connect_bd_net [get_bd_pins mig_7series_0/ui_clk] [get_bd_pins mig_reset/slowest_sync_clk]
    connect_bd_net [get_bd_pins mig_7series_0/ui_clk_sync_rst] [get_bd_pins mig_reset/ext_reset_in]
    connect_bd_net [get_bd_pins mig_7series_0/mmcm_locked] [get_bd_pins mig_reset/dcm_locked]
    connect_bd_net [get_bd_pins mig_reset/peripheral_aresetn] [get_bd_pins mig_7series_0/aresetn]
}

# The automation assigns addresses of its own choosing: replace them with the firmware's.
set data microblaze_0/Data
set instruction microblaze_0/Instruction
set dma_spaces {axi_dma_0/Data_MM2S axi_dma_0/Data_S2MM}
foreach space [list $data $instruction {*}$dma_spaces] {
    set assigned [get_bd_addr_segs -quiet -of_objects [get_bd_addr_spaces $space]]
    if {[llength $assigned]} { delete_bd_objs $assigned }
}
place $data microblaze_0_local_memory/dlmb_bram_if_cntlr/SLMB/Mem 0x00000000 ${local_memory_kb}K
place $instruction microblaze_0_local_memory/ilmb_bram_if_cntlr/SLMB/Mem 0x00000000 ${local_memory_kb}K
place [list $data $instruction {*}$dma_spaces] mig_7series_0/memmap/memaddr $ddr_base $ddr_bytes
place $data axi_uartlite_0/S_AXI/Reg $uart_base 64K
place $data axi_timer_0/S_AXI/Reg $timer_base 64K
place $data axi_gpio_0/S_AXI/Reg $gpio_base 64K
place $data axi_dma_0/S_AXI_LITE/Reg $dma_base 64K
place $data axi_quad_spi_0/AXI_LITE/Reg $flash_regs_base 64K
place $data axi_quad_spi_0/aximm/MEM0 $flash_xip_base ${flash_mb}M

validate_bd_design
save_bd_design

write_address_report $out_dir [list $data $instruction {*}$dma_spaces]

# ---- constraints, implementation, outputs ------------------------------------------------------

# The bitstream loads from the quad SPI flash at 33 MHz, compressed: configuration takes a fraction
# of a second, so the board answers within the ~3 s the energy runner allows after power-on.
set xdc [file join $out_dir constraints.xdc]
set constraints [open $xdc w]
puts $constraints "set_property CFGBVS VCCO \[current_design\]
set_property CONFIG_VOLTAGE 3.3 \[current_design\]
set_property CONFIG_MODE SPIx4 \[current_design\]
set_property BITSTREAM.CONFIG.SPI_BUSWIDTH 4 \[current_design\]
set_property BITSTREAM.CONFIG.CONFIGRATE 33 \[current_design\]
set_property BITSTREAM.GENERAL.COMPRESS TRUE \[current_design\]
set_property -dict {PACKAGE_PIN $timestamp_pin IOSTANDARD LVCMOS33} \[get_ports {timestamp\[0\]}\]"
puts $constraints [energy_uart_constraints $uart_pins $energy_uart_tx $energy_uart_rx]
close $constraints
add_files -fileset constrs_1 -norecurse $xdc

implement_design $name $system_hz $jobs
write_mem_info -force [file join $out_dir $name.mmi]
save_bitstream $name $out_dir
write_hw_platform -fixed -include_bit -force -file [file join $out_dir $name.xsa]
puts "block_design.tcl: wrote $name.bit, $name.mmi, $name.xsa in $out_dir"
