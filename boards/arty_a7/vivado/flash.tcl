# The SPI flash contents of the Arty A7 design, as an .mcs for the flash programmer: the bitstream
# with the flash bootloader in the MicroBlaze's local BRAM (updatemem, from the BRAM map the block
# design wrote), and the firmware image (boards/vendor/images.py write_flash_image) at its offset, where
# the bootloader reads it at power-on.
#
#   vivado -mode batch -source flash.tcl -tclargs -bit B.bit -mmi B.mmi -processor mb_system_i/microblaze_0 \
#          -bootloader boot.elf -image firmware.img -image_offset 0x00400000 -size_mb 16 -mcs out.mcs

set here [file dirname [file normalize [info script]]]
source [file join $here .. .. common vivado tclargs.tcl]
require_tool vivado flash.tcl {write_cfgmem}

set options [parse_tclargs $argv {bit mmi processor bootloader image image_offset size_mb mcs}]
dict with options {}

if {[auto_execok updatemem] eq ""} {
    error "updatemem not found on PATH: it comes with Vivado (source its settings64.sh)"
}
set boot_bit [file rootname $mcs]_boot.bit
# the bitstream's BRAM gets the bootloader: the MicroBlaze runs it when configuration is done
exec updatemem -force -meminfo $mmi -bit $bit -data $bootloader -proc $processor -out $boot_bit >@ stdout 2>@ stderr
# write_cfgmem refuses an image that overlaps the bitstream or does not fit the flash
write_cfgmem -force -format mcs -interface SPIx4 -size $size_mb \
    -loadbit [list up 0x00000000 $boot_bit] -loaddata [list up $image_offset $image] -file $mcs
puts "flash.tcl: wrote $mcs (the bitstream with the bootloader, the firmware image at $image_offset)"
