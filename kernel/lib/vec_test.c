/* Host tests for Box and Vec (kernel/lib/vec.h) over the fake kernel heap: growth, element access,
 * out-of-range access, and running out of memory leaving the vector as it was. */
#include "kernel/lib/vec.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel/lib/fake_heap.h"

static int failures;

#define CHECK(condition)                                                                           \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            fprintf(stderr, "%s:%d: %s: expected %s\n", __FILE__, __LINE__, __func__, #condition); \
            failures++;                                                                            \
        }                                                                                          \
    } while (0)

struct pair {
    int32_t key;
    const char *value;
};

/* Expect a boxed copy with the same fields, at a new address, freed by box_drop. */
static void box_copies_value_check(void) {
    struct pair original = {7, "seven"};
    struct pair *boxed = box_new(struct pair, {7, "seven"});
    CHECK(boxed != NULL);
    CHECK(boxed != &original);
    CHECK(boxed->key == 7 && strcmp(boxed->value, "seven") == 0);
    CHECK(fake_heap_live_blocks() == 1);
    box_drop(boxed);
    CHECK(fake_heap_live_blocks() == 0);
}

/* Expect NULL from box_new when the heap is out of memory. */
static void box_out_of_memory_check(void) {
    fake_heap_fail_after(0);
    CHECK(box_new(struct pair, {1, "one"}) == NULL);
    fake_heap_fail_after(-1);
}

/* Push 1000 items: capacity doubles from 4, every item reads back, one block is live. */
static void vec_grows_check(void) {
    struct vec numbers = VEC_INIT(uint64_t);
    for (uint64_t i = 0; i < 1000; i++) {
        CHECK(vec_push(&numbers, &i));
    }
    CHECK(numbers.len == 1000);
    CHECK(numbers.capacity == 1024);
    for (uint64_t i = 0; i < 1000; i++) {
        CHECK(VEC_AT(&numbers, uint64_t, i) == i);
    }
    CHECK(fake_heap_live_blocks() == 1);
    vec_drop(&numbers);
    CHECK(numbers.len == 0 && numbers.items == NULL);
    CHECK(fake_heap_live_blocks() == 0);
}

/* Expect NULL for an index at or past len, even within capacity. */
static void vec_out_of_range_check(void) {
    struct vec letters = VEC_INIT(char);
    char a = 'a';
    CHECK(vec_at(&letters, 0) == NULL);
    CHECK(vec_push(&letters, &a));
    CHECK(vec_at(&letters, 0) != NULL);
    CHECK(vec_at(&letters, 1) == NULL);
    vec_drop(&letters);
}

/* Growing fails: vec_push returns false and the vector keeps its items and capacity. */
static void vec_out_of_memory_check(void) {
    struct vec numbers = VEC_INIT(int);
    for (int i = 0; i < 4; i++) {
        CHECK(vec_push(&numbers, &i));
    }
    void *items = numbers.items;
    fake_heap_fail_after(0);
    int next = 4;
    CHECK(!vec_push(&numbers, &next));
    CHECK(numbers.len == 4 && numbers.capacity == 4 && numbers.items == items);
    CHECK(VEC_AT(&numbers, int, 3) == 3);
    fake_heap_fail_after(-1);
    CHECK(vec_push(&numbers, &next));
    CHECK(numbers.len == 5 && VEC_AT(&numbers, int, 4) == 4);
    vec_drop(&numbers);
}

/* A capacity whose byte size would overflow size_t is refused without allocating. */
static void vec_overflow_check(void) {
    struct vec huge = {
        .items = NULL, .len = SIZE_MAX / 2, .capacity = SIZE_MAX / 2, .item_size = 4};
    char item[4] = {0};
    CHECK(!vec_push(&huge, item));
    CHECK(fake_heap_live_blocks() == 0);
}

int main(void) {
    box_copies_value_check();
    box_out_of_memory_check();
    vec_grows_check();
    vec_out_of_range_check();
    vec_out_of_memory_check();
    vec_overflow_check();
    if (failures != 0) {
        fprintf(stderr, "vec_test: %d failures\n", failures);
        return 1;
    }
    printf("vec_test: all cases passed\n");
    return 0;
}
