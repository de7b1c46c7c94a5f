# What our two block designs (the MicroBlaze system, boards/<board>/vivado/block_design.tcl, and the
# Zynq one, boards/common/zynq7000/vivado/block_design.tcl) share besides the accelerator
# (accelerator.tcl): the energy design's UART on two Pmod pins, the report of the address map the
# firmware is checked against, and implementation: the HDL wrapper as top, synthesis through the
# bitstream, a refusal of a run that did not finish or missed timing, and the bitstream copied out.

# The energy design's UART goes to two package pins (-uart_pins pmod): both must be given.
proc require_energy_uart_pins {uart_pins tx rx} {
    if {$uart_pins eq "pmod" && ($tx eq "" || $rx eq "")} {
        error "-uart_pins pmod needs -energy_uart_tx and -energy_uart_rx (package pins)"
    }
}

# The XDC lines placing the energy UART's ports on its package pins ("" when it is not on a Pmod).
proc energy_uart_constraints {uart_pins tx rx} {
    if {$uart_pins ne "pmod"} {
        return ""
    }
    return "set_property -dict {PACKAGE_PIN $tx IOSTANDARD LVCMOS33} \[get_ports energy_uart_txd\]
set_property -dict {PACKAGE_PIN $rx IOSTANDARD LVCMOS33} \[get_ports energy_uart_rxd\]"
}

# out_dir/addresses.txt: every address segment of the given address spaces, one line each
# (space, offset, range, segment), which boards/vendor checks against the firmware's addresses.
proc write_address_report {out_dir spaces} {
    set report [open [file join $out_dir addresses.txt] w]
    foreach space $spaces {
        foreach segment [get_bd_addr_segs -quiet -of_objects [get_bd_addr_spaces $space]] {
            puts $report "$space [get_property OFFSET $segment] [get_property RANGE $segment] $segment"
        }
    }
    close $report
}

# Implement the block design `name` at `clock_hz` with `jobs` parallel runs; leaves the run open.
proc implement_design {name clock_hz jobs} {
    add_files -norecurse [make_wrapper -files [get_files $name.bd] -top]
    set_property top ${name}_wrapper [current_fileset]
    update_compile_order -fileset sources_1

    launch_runs impl_1 -to_step write_bitstream -jobs $jobs
    wait_on_run impl_1
    if {[get_property PROGRESS [get_runs impl_1]] ne "100%"} {
        error "implementation did not finish: see [get_property DIRECTORY [get_runs impl_1]]/runme.log"
    }
    set slack [get_property STATS.WNS [get_runs impl_1]]
    if {$slack < 0} {
        error "timing is not met at $clock_hz Hz (worst negative slack $slack ns): the bitstream would compute wrong results"
    }
    open_run impl_1
}

# The implemented bitstream of `name` as out_dir/name.bit.
proc save_bitstream {name out_dir} {
    file copy -force [file join [get_property DIRECTORY [get_runs impl_1]] ${name}_wrapper.bit] [file join $out_dir $name.bit]
}
