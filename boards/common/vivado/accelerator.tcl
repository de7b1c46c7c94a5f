# The accelerator IP and its AXI DMA in a block design, shared by our designs (the MicroBlaze
# system, boards/<board>/vivado/block_design.tcl, and the Zynq one,
# boards/common/zynq7000/vivado/block_design.tcl): the IP, an AXI DMA in simple mode whose streams
# take the largest power of two dividing the IP's widths (a width converter where they differ), and
# where the IP's output has no TLAST a marker on every `last_after`-th word (axis_last_after.v).
# The caller connects the returned clock and reset pins and the DMA's AXI ports.

namespace eval accelerator {
    variable dir [file dirname [file normalize [info script]]]
}

# The byte width of an AXI-stream interface pin.
proc stream_bytes {pin} {
    set bytes [get_property CONFIG.TDATA_NUM_BYTES [get_bd_intf_pins $pin]]
    if {![string is integer -strict $bytes] || $bytes < 1} {
        error "cannot read the stream width of $pin (CONFIG.TDATA_NUM_BYTES is '$bytes')"
    }
    return $bytes
}

# The AXI DMA's stream width for an IP stream of n bytes: the largest power of two (up to 128
# bytes, the DMA's widest) dividing n, so that a width converter between them has an integer ratio.
proc dma_bytes {n} {
    set bytes 1
    while {$bytes < 128 && $n % (2 * $bytes) == 0} {
        set bytes [expr {2 * $bytes}]
    }
    return $bytes
}

# Stream `from` into `to`, through an AXI4-Stream width converter called `name` where the widths
# differ; returns the cells whose aclk/aresetn need the system clock and reset.
proc connect_stream {from to from_bytes to_bytes name} {
    if {$from_bytes == $to_bytes} {
        connect_bd_intf_net [get_bd_intf_pins $from] [get_bd_intf_pins $to]
        return {}
    }
    create_bd_cell -type ip -vlnv xilinx.com:ip:axis_dwidth_converter $name
    set_property -dict [list CONFIG.S_TDATA_NUM_BYTES $from_bytes CONFIG.M_TDATA_NUM_BYTES $to_bytes] [get_bd_cells $name]
    connect_bd_intf_net [get_bd_intf_pins $from] [get_bd_intf_pins $name/S_AXIS]
    connect_bd_intf_net [get_bd_intf_pins $name/M_AXIS] [get_bd_intf_pins $to]
    return [list $name/aclk $name/aresetn]
}

# The IP as cell `accel` and the DMA as `axi_dma_0`, streams connected; returns the (clock, reset)
# pin pairs of every cell on the stream path, for the caller's clock and reset.
proc add_accelerator {ip_vlnv ip_stream_in ip_stream_out ip_clock ip_reset last_after} {
    create_bd_cell -type ip -vlnv $ip_vlnv accel
    set in_bytes [stream_bytes accel/$ip_stream_in]
    set out_bytes [stream_bytes accel/$ip_stream_out]
    set mm2s_bytes [dma_bytes $in_bytes]
    set s2mm_bytes [dma_bytes $out_bytes]

    create_bd_cell -type ip -vlnv xilinx.com:ip:axi_dma axi_dma_0
    set_property CONFIG.c_s_axis_s2mm_tdata_width.VALUE_SRC USER [get_bd_cells axi_dma_0]
    set_property -dict [list CONFIG.c_include_sg 0 CONFIG.c_sg_include_stscntrl_strm 0 CONFIG.c_sg_length_width 23 \
        CONFIG.c_addr_width 32 \
        CONFIG.c_m_axis_mm2s_tdata_width [expr {8 * $mm2s_bytes}] CONFIG.c_m_axi_mm2s_data_width [expr {max(32, 8 * $mm2s_bytes)}] \
        CONFIG.c_s_axis_s2mm_tdata_width [expr {8 * $s2mm_bytes}] CONFIG.c_m_axi_s2mm_data_width [expr {max(32, 8 * $s2mm_bytes)}] \
        CONFIG.c_mm2s_burst_size 16 CONFIG.c_s2mm_burst_size 16] [get_bd_cells axi_dma_0]

    set clocked [list accel/$ip_clock accel/$ip_reset]
    lappend clocked {*}[connect_stream axi_dma_0/M_AXIS_MM2S accel/$ip_stream_in $mm2s_bytes $in_bytes mm2s_width]
    set output accel/$ip_stream_out
    if {$last_after > 0} {
        # the IP ends no packets: mark the last word of each inference for the DMA's S2MM channel
        add_files -norecurse [file join $accelerator::dir axis_last_after.v]
        update_compile_order -fileset sources_1
        create_bd_cell -type module -reference axis_last_after out_last
        set_property -dict [list CONFIG.WIDTH [expr {8 * $out_bytes}] CONFIG.WORDS $last_after] [get_bd_cells out_last]
        connect_bd_intf_net [get_bd_intf_pins $output] [get_bd_intf_pins out_last/s_axis]
        set output out_last/m_axis
        lappend clocked out_last/aclk out_last/aresetn
    }
    lappend clocked {*}[connect_stream $output axi_dma_0/S_AXIS_S2MM $out_bytes $s2mm_bytes s2mm_width]
    return $clocked
}
