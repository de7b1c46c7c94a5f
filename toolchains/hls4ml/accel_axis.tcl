# Vitis HLS, run in the hls4ml project's folder (vitis-run --mode hls --tcl accel_axis.tcl): hls4ml's
# model under our AXI-stream top (accel_axis.cpp), synthesised for the part, clock and array-partition
# limit hls4ml's project.tcl records, and exported as IP to accel_axis_prj/solution1/impl/ip for the
# boards' block designs. The same commands as hls4ml's own build_prj.tcl, with our top instead of its.
source [file join [file dirname [file normalize [info script]]] project.tcl]

open_project -reset accel_axis_prj
set_top accel_axis
add_files firmware/${project_name}.cpp -cflags "-std=c++0x"
add_files accel_axis.cpp -cflags "-std=c++0x"
open_solution -reset solution1 -flow_target vivado
catch {config_array_partition -maximum_size $maximum_size}
config_compile -name_max_length 80
set_part $part
config_schedule -enable_dsp_full_reg=false
create_clock -period $clock_period -name default
set_clock_uncertainty $clock_uncertainty default
csynth_design
export_design -format ip_catalog -version 1.0
exit
