#include <cstdio>
#include <cstdlib>

#include "ap_int.h"
#include "hls_stream.h"

#include "firmware/myproject.h"
#include "accel_axis.h"
#include "accel_hls4ml_io.h"

void accel_axis(hls::stream<ap_uint<32> > &in, hls::stream<ap_uint<32> > &out);

// Random inputs over the whole range of the input type, through hls4ml's top as the emulated board
// calls it (accel_run: values from the raw integers) and through the board IP's AXI-stream top
// (raw words): the outputs must be the same integers.
int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 10, bad = 0;
    unsigned long long state = 12345, spread = 0;
    static int32_t in[ACCEL_N_IN];
    static int64_t ref[ACCEL_N_OUT];
    for (int k = 0; k < n; ++k) {
        hls::stream<ap_uint<32> > words_in("in"), words_out("out");
        for (int i = 0; i < ACCEL_N_IN; ++i) {
            state = state * 6364136223846793005ULL + 1442695040888963407ULL;
            long long span = 1LL << ACCEL_IN_WIDTH, r = (long long)((state >> 20) % (unsigned long long)span);
            in[i] = (int32_t)(ACCEL_IN_SIGNED ? r - span / 2 : r);
            words_in.write((ap_uint<32>)(uint32_t)in[i]);
        }
        accel_run(in, ref);
        accel_axis(words_in, words_out);
        for (int i = 0; i < ACCEL_N_OUT; ++i) {
            int32_t got = (int32_t)(uint32_t)words_out.read().to_uint();
            if ((int64_t)got != ref[i] && bad++ < 5) printf("input %d output %d: %d, hls4ml %lld\n", k, i, got, (long long)ref[i]);
            spread ^= (unsigned long long)ref[i] * (i + 1);
        }
        if (!words_in.empty() || !words_out.empty()) { printf("words left over\n"); return 2; }
    }
    printf("%d mismatches in %d inputs (%llx)\n", bad, n, spread);
    return bad != 0;
}
