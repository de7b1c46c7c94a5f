/*
 * Arty A7 flash bootloader. At power-on the FPGA configures from the SPI flash, and this program
 * is in the MicroBlaze's local BRAM with the bitstream. It reads the firmware image that
 * boards/vendor/images.py (write_flash_image) put after the bitstream, through the AXI Quad SPI in XIP
 * mode (the flash read as memory), checks it, copies its segments into DDR and into the
 * firmware's vector block at 0x0, and jumps to the firmware's entry. A bad image is reported on
 * the UART and not started. Build defines: FLASH_XIP_BASE, IMAGE_OFFSET, DDR_BASE, DDR_BYTES,
 * VECTORS_BYTES, MB_UART_BASE.
 *
 * The image, little-endian 32-bit words: magic "MBFW", version, entry, segment count, payload
 * bytes, payload CRC-32 (zlib's); then per segment its load address and length; then each
 * segment's bytes in that order, padded to a multiple of 4 (the payload).
 */
#include <stdint.h>

#define IMAGE_MAGIC 0x5746424Du /* "MBFW" */
#define IMAGE_VERSION 1u
#define HEADER_WORDS 6u
#define MAX_SEGMENTS 16u

#define REG(addr) (*(volatile uint32_t *)(uintptr_t)(addr))
#define UART_TX (MB_UART_BASE + 0x4) /* AXI UART Lite (PG142) */
#define UART_STAT (MB_UART_BASE + 0x8)
#define UART_TX_FULL 0x08u

static void say(const char *s) {
    for (; *s; ++s) {
        while (REG(UART_STAT) & UART_TX_FULL) {}
        REG(UART_TX) = (uint8_t)*s;
    }
}

static int fail(const char *why) {
    say("boot: ");
    say(why);
    say("\r\n");
    return 1;
}

/* [address, address + length) lies within [base, base + bytes): written so that nothing overflows */
static int inside(uint32_t address, uint32_t length, uint32_t base, uint32_t bytes) {
    return address >= base && length <= bytes && address - base <= bytes - length;
}

/* A firmware may be loaded into DDR and into its vector block, never over this program. */
static int loadable(uint32_t address, uint32_t length) {
    return inside(address, length, 0, VECTORS_BYTES) || inside(address, length, DDR_BASE, DDR_BYTES);
}

/* zlib's CRC-32, four bytes (little-endian) at a time */
static uint32_t crc32_word(uint32_t crc, uint32_t word) {
    crc ^= word;
    for (int bit = 0; bit < 32; ++bit) crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1u));
    return crc;
}

int main(void) {
    const volatile uint32_t *image = (const volatile uint32_t *)(uintptr_t)(FLASH_XIP_BASE + IMAGE_OFFSET);
    if (image[0] != IMAGE_MAGIC) return fail("no firmware image in the flash (boards/arty_a7/vivado/flash.tcl writes it)");
    if (image[1] != IMAGE_VERSION) return fail("the firmware image is of another version than this bootloader");
    uint32_t entry = image[2], segments = image[3], payload_bytes = image[4], payload_crc = image[5];
    const volatile uint32_t *table = image + HEADER_WORDS;
    if (segments == 0 || segments > MAX_SEGMENTS) return fail("the firmware image has no or too many segments");
    uint32_t padded = 0;
    for (uint32_t s = 0; s < segments; ++s) {
        uint32_t address = table[2 * s], length = table[2 * s + 1];
        if (!loadable(address, length)) return fail("a firmware segment lies outside DDR and the vector block");
        padded += (length + 3u) & ~3u;
    }
    if (padded != payload_bytes) return fail("the firmware image's segments do not add up to its payload");
    if (!loadable(entry, 4)) return fail("the firmware entry lies outside DDR and the vector block");

    /* copy and check in one pass over the flash: the image is read once */
    const volatile uint32_t *payload = table + 2 * segments;
    uint32_t crc = 0xFFFFFFFFu;
    for (uint32_t s = 0; s < segments; ++s) {
        uint32_t length = table[2 * s + 1];
        volatile uint32_t *to = (volatile uint32_t *)(uintptr_t)table[2 * s];
        uint32_t words = length / 4, tail = length % 4;
        for (uint32_t w = 0; w < words; ++w) {
            uint32_t word = *payload++;
            crc = crc32_word(crc, word);
            to[w] = word;
        }
        if (tail) { /* the last bytes of a segment: the padding is not written */
            uint32_t word = *payload++;
            crc = crc32_word(crc, word);
            volatile uint8_t *bytes = (volatile uint8_t *)(to + words);
            for (uint32_t b = 0; b < tail; ++b) bytes[b] = (uint8_t)(word >> (8 * b));
        }
    }
    if ((crc ^ 0xFFFFFFFFu) != payload_crc) return fail("the firmware image is damaged (CRC-32 mismatch): write the flash again");
    ((void (*)(void))(uintptr_t)entry)();
    return 0;
}
