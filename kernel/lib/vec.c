/* Growable vector and boxed values over the kernel heap (see vec.h). */
#include "kernel/lib/vec.h"

#include <stdint.h>

#include "kernel/kmalloc.h"

void *box_copy(const void *value, size_t size) {
    void *boxed = kmalloc(size);
    if (boxed != NULL) {
        __builtin_memcpy(boxed, value, size);
    }
    return boxed;
}

void box_drop(void *boxed) {
    kfree(boxed);
}

bool vec_push(struct vec *vec, const void *item) {
    if (vec->item_size == 0) {
        return false; /* the capacity check below would divide by it */
    }
    if (vec->len == vec->capacity) {
        size_t capacity = vec->capacity == 0 ? 4 : vec->capacity * 2;
        if (capacity < vec->capacity || capacity > SIZE_MAX / vec->item_size) {
            return false;
        }
        /* item may be one of the vector's own items, which krealloc may move and free. */
        uintptr_t offset = (uintptr_t)item - (uintptr_t)vec->items;
        bool own_item = vec->items != NULL && (uintptr_t)item >= (uintptr_t)vec->items &&
                        offset < vec->len * vec->item_size;
        void *items = krealloc(vec->items, capacity * vec->item_size);
        if (items == NULL) {
            return false;
        }
        if (own_item) {
            item = (const char *)items + offset;
        }
        vec->items = items;
        vec->capacity = capacity;
    }
    __builtin_memcpy((char *)vec->items + vec->len * vec->item_size, item, vec->item_size);
    vec->len++;
    return true;
}

void *vec_at(const struct vec *vec, size_t index) {
    if (index >= vec->len) {
        return NULL;
    }
    return (char *)vec->items + index * vec->item_size;
}

void vec_drop(struct vec *vec) {
    kfree(vec->items);
    vec->items = NULL;
    vec->len = 0;
    vec->capacity = 0;
}
