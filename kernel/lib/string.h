/* Memory and string functions for the freestanding kernel (there is no libc). */
#ifndef KERNEL_LIB_STRING_H
#define KERNEL_LIB_STRING_H

#include <stddef.h>

void *memcpy(void *restrict destination, const void *restrict source, size_t len);
void *memmove(void *destination, const void *source, size_t len);
void *memset(void *destination, int value, size_t len);
/* Returns <0, 0 or >0 as the first differing byte of left is below, equal or above right's. */
int memcmp(const void *left, const void *right, size_t len);
size_t strlen(const char *string);
int strcmp(const char *left, const char *right);
int strncmp(const char *left, const char *right, size_t len);

#endif
