/* Included before hls4ml's sources in the emulated DUT: hls4ml's C simulation reads its weights from
 * WEIGHTS_DIR, which the build defines as this function: the weights/ folder beside the binary. */
#ifndef ACCEL_WEIGHTS_H
#define ACCEL_WEIGHTS_H
#ifdef __cplusplus
extern "C" {
#endif
const char *accel_weights_dir(void);
#ifdef __cplusplus
}
#endif
#endif
