/* Growable vector and boxed values for kernel code: the roles Rust's Vec<T> and Box<T> play, in
 * C. Both allocate from the kernel heap through kmalloc/krealloc/kfree (kernel/kmalloc.h), and both
 * report running out of memory as a value (false or NULL) rather than panicking, so the caller
 * decides. */
#ifndef KERNEL_LIB_VEC_H
#define KERNEL_LIB_VEC_H

#include <stdbool.h>
#include <stddef.h>

/* Box: a heap copy of one value. `struct point *p = box_new(struct point, {.x = 1, .y = 2});`
 * Returns NULL when the heap is out of memory. Free with box_drop. */
#define box_new(type, ...) ((type *)box_copy(&(type)__VA_ARGS__, sizeof(type)))
void *box_copy(const void *value, size_t size);
void box_drop(void *boxed);

/* Vec: `struct vec numbers = VEC_INIT(int);` then vec_push(&numbers, &value). */
struct vec {
    void *items;
    size_t len;
    size_t capacity;
    size_t item_size;
};

#define VEC_INIT(type) {.items = NULL, .len = 0, .capacity = 0, .item_size = sizeof(type)}

/* Appends a copy of *item, which may be one of the vector's own items, doubling the capacity when
 * full. Returns false, the vector unchanged, if the heap could not grow the vector, the new size
 * would overflow, or items have size 0 (GNU C's empty struct). */
bool vec_push(struct vec *vec, const void *item);

/* Returns a pointer to item index, or NULL when index >= len. */
void *vec_at(const struct vec *vec, size_t index);

/* Typed element access: VEC_AT(&names, const char *, 2). Out of range is a NULL dereference. */
#define VEC_AT(vec, type, index) (*(type *)vec_at((vec), (index)))

/* Frees the items; the vector is empty again and may be reused. */
void vec_drop(struct vec *vec);

#endif
