# Implementing a block design, shared by our designs (the MicroBlaze system and the Zynq one): the
# HDL wrapper as top, synthesis through the bitstream, and a refusal of a run that did not finish
# or missed timing. The caller then writes what it exports (bitstream, XSA, memory map).

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
