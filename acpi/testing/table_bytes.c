/* Test support: the fields and checksums of forged ACPI tables (see table_bytes.h). */
#include "acpi/testing/table_bytes.h"

uint32_t table_get_u32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t table_get_u64(const uint8_t *p) {
    return (uint64_t)table_get_u32(p) | (uint64_t)table_get_u32(p + 4) << 32;
}

void table_put_u32(uint8_t *p, uint32_t value) {
    for (int i = 0; i < 4; i++) {
        p[i] = (uint8_t)(value >> (8 * i));
    }
}

void table_put_u64(uint8_t *p, uint64_t value) {
    table_put_u32(p, (uint32_t)value);
    table_put_u32(p + 4, (uint32_t)(value >> 32));
}

void table_put_text(uint8_t *p, const char *text, size_t size) {
    for (size_t i = 0; i < size; i++) {
        p[i] = (uint8_t)text[i];
    }
}

void table_seal(uint8_t *p, size_t size, size_t checksum) {
    p[checksum] = 0;
    uint8_t sum = 0;
    for (size_t i = 0; i < size; i++) {
        sum = (uint8_t)(sum + p[i]);
    }
    p[checksum] = (uint8_t)-sum;
}
