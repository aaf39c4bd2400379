/* The four memory functions the C compiler may emit calls to in freestanding code, plus strlen,
 * strcmp and strncmp.
 * Deliberately simple: the kernel's hot paths do not live here. */
#include "kernel/lib/string.h"

#include <stdint.h>

void *memcpy(void *restrict destination, const void *restrict source, size_t len) {
    unsigned char *to = destination;
    const unsigned char *from = source;
    while (len--) {
        *to++ = *from++;
    }
    return destination;
}

void *memmove(void *destination, const void *source, size_t len) {
    unsigned char *to = destination;
    const unsigned char *from = source;
    if ((uintptr_t)to < (uintptr_t)from) {
        while (len--) {
            *to++ = *from++;
        }
    } else {
        while (len--) {
            to[len] = from[len];
        }
    }
    return destination;
}

void *memset(void *destination, int value, size_t len) {
    unsigned char *to = destination;
    while (len--) {
        *to++ = (unsigned char)value;
    }
    return destination;
}

int memcmp(const void *left, const void *right, size_t len) {
    const unsigned char *a = left;
    const unsigned char *b = right;
    for (size_t i = 0; i < len; i++) {
        if (a[i] != b[i]) {
            return a[i] < b[i] ? -1 : 1;
        }
    }
    return 0;
}

size_t strlen(const char *string) {
    size_t len = 0;
    while (string[len] != '\0') {
        len++;
    }
    return len;
}

int strcmp(const char *left, const char *right) {
    while (*left != '\0' && *left == *right) {
        left++;
        right++;
    }
    return (unsigned char)*left - (unsigned char)*right;
}

int strncmp(const char *left, const char *right, size_t len) {
    for (size_t i = 0; i < len; i++) {
        if (left[i] != right[i] || left[i] == '\0') {
            return (unsigned char)left[i] - (unsigned char)right[i];
        }
    }
    return 0;
}
