/*
 * EEMBC test-harness protocol core (our implementation of docs/mlperf-tiny.md section 2).
 *
 * Deliberate differences from the reference firmware, all on paths the reference leaves unguarded
 * (a board must neither corrupt memory nor score stale data on a bad host):
 *   - a command longer than EE_CMD_SIZE characters is rejected whole instead of silently truncated;
 *   - numbers must be plain decimals (no sign but '-', no spaces, no hex, no exponent), and `infer`
 *     counts are bounded by EE_MAX_ITERATIONS, so a typo cannot start a run of hours;
 *   - a rejected `db load` (too large, zero, not a number) also discards the previous input, so a
 *     following `infer` is refused instead of running on stale data;
 *   - `db <hex>` with no load in progress, or with more than one hex token, is rejected;
 *   - a `db <hex>` chunk with a bad digit pair stores nothing;
 *   - unexpected extra arguments are rejected rather than ignored;
 *   - `infer` without a complete input is refused by th_load_tensor with an e-[...] reply;
 *   - `results` before any complete inference (or after an `infer` whose input was refused) is an
 *     error, not a score of whatever the task's buffers hold;
 *   - EE_CMD_CANCEL discards a partial command (a link that knows a new host connected sends it);
 *   - `profile` adds m-build-[...], m-platform-[...] and m-timing-[...] lines (see ee_core.h).
 */
#include "ee_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "th_api.h"

#define MSG_READY "m-ready\r\n"

static char cmd_buf[EE_CMD_SIZE + 1];
static size_t cmd_len;
static int cmd_overflow;

static int have_results; /* an inference completed on the input now in the task's buffers */

static uint8_t db_buf[EE_DB_BUFFER_SIZE];
static size_t db_expected; /* size announced by `db load` */
static size_t db_received; /* bytes stored since that `db load` */

size_t ee_get_buffer(uint8_t *dst, size_t max) {
    size_t n = db_received < max ? db_received : max;
    memcpy(dst, db_buf, n);
    return n;
}

int ee_get_input(uint8_t *dst, size_t size) {
    size_t n = ee_get_buffer(dst, size);
    if (n != size) {
        th_printf("e-[%s needs %u input bytes, %u loaded]\r\n", th_model_id(), (unsigned)size, (unsigned)n);
        return -1;
    }
    return 0;
}

void ee_results_softmax(const int64_t *logits, int n, int frac) {
    double top = -INFINITY, sum = 0.0;
    for (int i = 0; i < n; ++i)
        if (ldexp((double)logits[i], -frac) > top) top = ldexp((double)logits[i], -frac);
    for (int i = 0; i < n; ++i) sum += exp(ldexp((double)logits[i], -frac) - top); /* >= 1: never all zero */
    th_printf("m-results-[");
    for (int i = 0; i < n; ++i) th_printf("%s%.6f", i ? "," : "", exp(ldexp((double)logits[i], -frac) - top) / sum);
    th_printf("]\r\n");
}

#if EE_TIMING_MODELED
static uint64_t modeled_ns; /* the modeled board's time: advanced by each inference, nothing else */
#define EE_NOW_US() (modeled_ns / 1000u)
#define EE_INFER() (th_infer(), modeled_ns += (uint64_t)(EE_MODELED_INFER_NS))
#else
#define EE_NOW_US() th_time_us()
#define EE_INFER() th_infer()
#endif

uint64_t ee_now_us(void) { return EE_NOW_US(); }

void ee_timestamp(void) {
#if EE_CFG_ENERGY_MODE
    th_timestamp_pulse();
#else
    th_printf("m-lap-us-%llu\r\n", (unsigned long long)EE_NOW_US());
#endif
}

/* Parses a plain decimal token ("-"? digits); returns 0 when it is not one or exceeds +-limit. */
static int parse_decimal(const char *tok, long limit, long *out) {
    int negative = (*tok == '-');
    const char *p = tok + negative;
    long value = 0;
    if (*p == '\0') return 0;
    for (; *p != '\0'; ++p) {
        if (*p < '0' || *p > '9') return 0;
        if (value > (limit - (*p - '0')) / 10) return 0;
        value = value * 10 + (*p - '0');
    }
    *out = negative ? -value : value;
    return 1;
}

/* The next token must not exist: prints an error and returns 0 if it does. */
static int no_more_arguments(void) {
    const char *extra = strtok(NULL, EE_CMD_DELIMITER);
    if (extra == NULL) return 1;
    th_printf("e-[Unexpected argument '%s']\r\n", extra);
    return 0;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static void db_load(const char *arg) {
    long n;
    /* Whatever happens below, the previous input is gone: a refused load must not leave it scoreable. */
    db_expected = 0;
    db_received = 0;
    if (arg == NULL) {
        th_printf("e-[Command 'db load' requires the # of bytes]\r\n");
        return;
    }
    if (!parse_decimal(arg, 2147483647L, &n)) {
        th_printf("e-[Command 'db load' needs a decimal # of bytes, got '%s']\r\n", arg);
        return;
    }
    if (n <= 0) {
        th_printf("e-[Command 'db load' must be >0 bytes]\r\n");
        return;
    }
    if ((unsigned long)n > EE_DB_BUFFER_SIZE) {
        th_printf("e-[Supplied buffer size %ld exceeds maximum of %u]\r\n", n, (unsigned)EE_DB_BUFFER_SIZE);
        return;
    }
    if (!no_more_arguments()) return;
    db_expected = (size_t)n;
    th_printf("m-[Expecting %ld bytes]\r\n", n);
}

static void db_print(void) {
    for (size_t i = 0; i < db_received; i += 8) {
        th_printf("m-buffer");
        for (size_t j = i; j < i + 8 && j < db_received; ++j) th_printf("-%02x", db_buf[j]);
        th_printf("\r\n");
    }
}

static void db_hex(const char *hex) {
    size_t digits = strlen(hex);
    if (!no_more_arguments()) return;
    if (digits % 2 != 0) {
        th_printf("e-[Insufficent number of hex digits]\r\n"); /* sic: the reference wording */
        return;
    }
    if (db_received >= db_expected) {
        th_printf("e-[No db load in progress]\r\n");
        return;
    }
    /* Validate up to the byte that completes the load (later digits are ignored, as in the reference). */
    size_t wanted = db_expected - db_received;
    size_t pairs = digits / 2 < wanted ? digits / 2 : wanted;
    for (size_t i = 0; i < pairs; ++i) {
        if (hex_value(hex[2 * i]) < 0 || hex_value(hex[2 * i + 1]) < 0) {
            th_printf("e-[Invalid hex digit '%c%c']\r\n", hex[2 * i], hex[2 * i + 1]);
            return;
        }
    }
    for (size_t i = 0; i < pairs; ++i)
        db_buf[db_received++] = (uint8_t)(hex_value(hex[2 * i]) << 4 | hex_value(hex[2 * i + 1]));
    if (db_received == db_expected) th_printf("m-load-done\r\n");
}

static void db_command(void) {
    const char *sub = strtok(NULL, EE_CMD_DELIMITER);
    if (sub == NULL)
        th_printf("e-[Command 'db' requires a subcommand]\r\n");
    else if (strcmp(sub, "load") == 0)
        db_load(strtok(NULL, EE_CMD_DELIMITER));
    else if (strcmp(sub, "print") == 0) {
        if (no_more_arguments()) db_print();
    }
    else
        db_hex(sub);
}

/* Parses an `infer` count into *out; prints the error and returns 0 when it is not acceptable. */
static int infer_count(const char *tok, long minimum, const char *what, long *out) {
    if (!parse_decimal(tok, EE_MAX_ITERATIONS, out)) {
        th_printf("e-[Inference %s must be a decimal number from %ld to %ld, got '%s']\r\n", what, minimum,
                  (long)EE_MAX_ITERATIONS, tok);
        return 0;
    }
    if (*out < minimum) {
        /* the reference's wording for these two cases */
        if (minimum > 0)
            th_printf("e-[Inference iterations must be >0]\r\n");
        else
            th_printf("e-[Inference warmup must be >=0]\r\n");
        return 0;
    }
    return 1;
}

/* infer N W: load (untimed), W warm-up runs (untimed), then N timed runs between two timestamps. */
static void infer_command(void) {
    long n = 1, warmup = 10; /* the reference defaults */
    const char *tok = strtok(NULL, EE_CMD_DELIMITER);
    if (tok != NULL) {
        if (!infer_count(tok, 1, "iterations", &n)) return;
        tok = strtok(NULL, EE_CMD_DELIMITER);
        if (tok != NULL && !infer_count(tok, 0, "warmup", &warmup)) return;
        if (tok != NULL && !no_more_arguments()) return;
    }
    /* th_load_tensor may have overwritten the task's input before refusing it: no results until an
     * inference completes again. */
    have_results = 0;
    if (th_load_tensor() != 0) return;
    th_printf("m-warmup-start-%ld\r\n", warmup);
    for (long i = 0; i < warmup; ++i) EE_INFER();
    th_printf("m-warmup-done\r\n");
    th_printf("m-infer-start-%ld\r\n", n);
    ee_timestamp();
    th_pre();
    for (long i = 0; i < n; ++i) EE_INFER();
    th_post();
    ee_timestamp();
    th_printf("m-infer-done\r\n");
    have_results = 1;
    th_results();
}

static void results_command(void) {
    if (!no_more_arguments()) return;
    if (!have_results) {
        th_printf("e-[No results: no inference has completed on the loaded input]\r\n");
        return;
    }
    th_results();
}

static void profile_command(void) {
    th_printf("m-profile-[%s]\r\n", EE_FW_VERSION);
    th_printf("m-model-[%s]\r\n", th_model_id());
#ifdef EE_BUILD_KEY
    th_printf("m-build-[%s]\r\n", EE_BUILD_KEY);
#endif
#ifdef EE_PLATFORM
    th_printf("m-platform-[%s]\r\n", EE_PLATFORM);
#endif
    th_printf("m-timing-[%s]\r\n", EE_TIMING_MODELED ? "modeled" : "clock");
}

static void help_command(void) {
    th_printf("%s\r\n", EE_FW_VERSION);
    th_printf("\r\n");
    th_printf("help         : Print this information\r\n");
    th_printf("name         : Print the name of the device\r\n");
    th_printf("profile      : Print the firmware version and the model id\r\n");
    th_printf("timestamp    : Generate a timestamp\r\n");
    th_printf("db SUBCMD    : Manipulate the input byte buffer\r\n");
    th_printf("  load N     : Expect N bytes (at most %u) and reset the load position\r\n",
              (unsigned)EE_DB_BUFFER_SIZE);
    th_printf("  HH[HH]*    : Load 8-bit hex byte(s) until N bytes\r\n");
    th_printf("  print      : Print the loaded bytes as hex\r\n");
    th_printf("infer N [W]  : Load the input, run W warm-up then N timed inferences (default N=1 W=10,\r\n");
    th_printf("               each at most %ld)\r\n", (long)EE_MAX_ITERATIONS);
    th_printf("results      : Print the result vector of the last inference\r\n");
}

static void run_command(char *cmd) {
    const char *tok = strtok(cmd, EE_CMD_DELIMITER);
    if (tok == NULL) {
        /* empty command: nothing to do */
    } else if (strcmp(tok, "name") == 0) {
        th_printf("m-name-%s-[%s]\r\n", EE_DEVICE_NAME, th_vendor_name());
    } else if (strcmp(tok, "profile") == 0) {
        profile_command();
    } else if (strcmp(tok, "help") == 0) {
        help_command();
    } else if (strcmp(tok, "timestamp") == 0) {
        ee_timestamp();
    } else if (strcmp(tok, "db") == 0) {
        db_command();
    } else if (strcmp(tok, "infer") == 0) {
        infer_command();
    } else if (strcmp(tok, "results") == 0) {
        results_command();
    } else {
        th_printf("e-[Unknown command: %s]\r\n", tok);
    }
    th_printf(MSG_READY);
}

void ee_serial_discard(void) {
    cmd_len = 0;
    cmd_overflow = 0;
}

void ee_serial_callback(char c) {
    if (c == '\r' || c == '\n' || c == '\0') return; /* hosts and terminals may add these */
    if (c == EE_CMD_CANCEL) {
        ee_serial_discard();
        return;
    }
    if (c != EE_CMD_TERMINATOR) {
        if (cmd_len < EE_CMD_SIZE)
            cmd_buf[cmd_len++] = c;
        else
            cmd_overflow = 1;
        return;
    }
    cmd_buf[cmd_len] = '\0';
    if (cmd_overflow) {
        th_printf("e-[Command exceeds %d characters]\r\n", EE_CMD_SIZE);
        th_printf(MSG_READY);
    } else {
        run_command(cmd_buf);
    }
    ee_serial_discard();
}

void ee_benchmark_initialize(void) {
    th_serialport_initialize();
#if EE_CFG_ENERGY_MODE
    th_printf("m-timestamp-mode-energy\r\n");
    th_timestamp_pin_idle();
#else
    th_printf("m-timestamp-mode-performance\r\n");
#endif
    ee_timestamp();
    th_final_initialize();
    th_printf("m-init-done\r\n");
    th_printf(MSG_READY);
}
