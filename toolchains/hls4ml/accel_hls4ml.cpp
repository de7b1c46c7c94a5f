// The emulated board's accelerator: the hls4ml-generated HLS C++ (accel_hls4ml_io.h), with its
// weights loaded by hls4ml's C simulation from the text files beside the binary.
#include <climits>
#include <string>
#include <unistd.h>

#include "accel.h"
#include "accel_weights.h"
#include "firmware/myproject.h" // from the hls4ml project written by the convert stage

// hls4ml's C simulation loads its weight files at the first call: from weights/ beside this binary,
// wherever the build folder has been moved.
extern "C" const char *accel_weights_dir(void) {
    static std::string dir;
    if (dir.empty()) {
        char exe[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        std::string path = n > 0 ? std::string(exe, (size_t)n) : std::string("./dut_host");
        dir = path.substr(0, path.find_last_of('/')) + "/weights";
    }
    return dir.c_str();
}

extern "C" void accel_init(void) {}

#include "accel_hls4ml_io.h"
