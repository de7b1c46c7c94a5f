# Shared by the board scripts under boards/*/vivado/ (Vivado and xsct alike): their arguments come
# as -name value pairs (vivado ... -tclargs -name value ..., xsct script.tcl -name value ...), written
# by boards/vendor/ from board.yaml, so that the hardware and the firmware use the same numbers.

# Stop with a message naming the tool when the script runs in a Tcl without its commands (tclsh,
# or vivado for an xsct script): nothing else would say what is missing.
proc require_tool {tool script commands} {
    foreach command $commands {
        if {[llength [info commands $command]] == 0 && ![auto_load $command]} {
            puts stderr "$script: run it with $tool (the Tcl running it has no '$command' command)"
            exit 2
        }
    }
}

# The -name value pairs as a dict: every name in `required` must be given; `optional` is a dict of
# the others with their defaults; any other name is an error (a misspelt one is not ignored).
proc parse_tclargs {argv required {optional {}}} {
    if {[llength $argv] % 2} {
        error "expected -name value pairs, got: $argv"
    }
    set args $optional
    foreach {flag value} $argv {
        set name [string range $flag 1 end]
        if {[string index $flag 0] ne "-" || ($name ni $required && ![dict exists $optional $name])} {
            error "unknown argument '$flag' (known: -[join [concat $required [dict keys $optional]] { -}])"
        }
        dict set args $name $value
    }
    set missing {}
    foreach name $required {
        if {![dict exists $args $name]} { lappend missing -$name }
    }
    if {[llength $missing]} {
        error "missing argument(s): [join $missing {, }]"
    }
    return $args
}
