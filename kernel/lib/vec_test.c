/* Host tests for Box and Vec (kernel/lib/vec.h) over the fake kernel heap: growth, element access,
 * out-of-range access, and running out of memory leaving the vector as it was. */
#include "kernel/lib/vec.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kernel/lib/fake_heap.h"
#include "tests/support/check.h"

struct pair {
    int32_t key;
    const char *value;
};

/* Expect a boxed copy with the same fields, at a new address, freed by box_drop. */
static int box_copies_value_check(void) {
    struct pair original = {7, "seven"};
    struct pair *boxed = box_new(struct pair, {7, "seven"});
    ASSERT_TRUE(boxed != NULL);
    ASSERT_TRUE(boxed != &original);
    ASSERT_TRUE(boxed->key == 7 && strcmp(boxed->value, "seven") == 0);
    ASSERT_TRUE(fake_heap_live_blocks() == 1);
    box_drop(boxed);
    ASSERT_TRUE(fake_heap_live_blocks() == 0);
    return 0;
}

/* Expect NULL from box_new when the heap is out of memory. */
static int box_out_of_memory_check(void) {
    fake_heap_fail_after(0);
    ASSERT_TRUE(box_new(struct pair, {1, "one"}) == NULL);
    fake_heap_fail_after(-1);
    return 0;
}

/* Push 1000 items: capacity doubles from 4, every item reads back, one block is live; dropped,
 * nothing is live and the vector takes a push again. */
static int vec_grows_check(void) {
    struct vec numbers = VEC_INIT(uint64_t);
    for (uint64_t i = 0; i < 1000; i++) {
        ASSERT_TRUE(vec_push(&numbers, &i));
    }
    ASSERT_TRUE(numbers.len == 1000);
    ASSERT_TRUE(numbers.capacity == 1024);
    for (uint64_t i = 0; i < 1000; i++) {
        ASSERT_TRUE(VEC_AT(&numbers, uint64_t, i) == i);
    }
    ASSERT_TRUE(fake_heap_live_blocks() == 1);
    vec_drop(&numbers);
    ASSERT_TRUE(numbers.len == 0 && numbers.items == NULL && numbers.capacity == 0);
    ASSERT_TRUE(fake_heap_live_blocks() == 0);
    /* Dropped, it is empty again and may be reused. */
    uint64_t again = 77;
    ASSERT_TRUE(vec_push(&numbers, &again));
    ASSERT_TRUE(VEC_AT(&numbers, uint64_t, 0) == 77 && numbers.len == 1);
    vec_drop(&numbers);
    ASSERT_TRUE(fake_heap_live_blocks() == 0);
    return 0;
}

/* A full vector pushed one of its own items: growing moves the items (the fake heap's krealloc
 * always does). Expect the copy to be the item's value, not what its old place holds after the
 * move. */
static int vec_push_own_item_check(void) {
    struct vec numbers = VEC_INIT(uint64_t);
    for (uint64_t i = 0; i < 4; i++) {
        uint64_t value = 100 + i;
        ASSERT_TRUE(vec_push(&numbers, &value));
    }
    ASSERT_EQ(numbers.capacity, numbers.len);
    ASSERT_TRUE(vec_push(&numbers, vec_at(&numbers, 1)));
    ASSERT_EQ(5, numbers.len);
    ASSERT_EQ(101, VEC_AT(&numbers, uint64_t, 4));
    ASSERT_EQ(101, VEC_AT(&numbers, uint64_t, 1));
    vec_drop(&numbers);
    return 0;
}

/* Expect NULL for an index at or past len, even within capacity. */
static int vec_out_of_range_check(void) {
    struct vec letters = VEC_INIT(char);
    char a = 'a';
    ASSERT_TRUE(vec_at(&letters, 0) == NULL);
    ASSERT_TRUE(vec_push(&letters, &a));
    ASSERT_TRUE(vec_at(&letters, 0) != NULL);
    ASSERT_TRUE(vec_at(&letters, 1) == NULL);
    vec_drop(&letters);
    return 0;
}

/* Growing fails: vec_push returns false and the vector keeps its items and capacity. */
static int vec_out_of_memory_check(void) {
    struct vec numbers = VEC_INIT(int);
    for (int i = 0; i < 4; i++) {
        ASSERT_TRUE(vec_push(&numbers, &i));
    }
    void *items = numbers.items;
    fake_heap_fail_after(0);
    int next = 4;
    ASSERT_TRUE(!vec_push(&numbers, &next));
    ASSERT_TRUE(numbers.len == 4 && numbers.capacity == 4 && numbers.items == items);
    ASSERT_TRUE(VEC_AT(&numbers, int, 3) == 3);
    fake_heap_fail_after(-1);
    ASSERT_TRUE(vec_push(&numbers, &next));
    ASSERT_TRUE(numbers.len == 5 && VEC_AT(&numbers, int, 4) == 4);
    vec_drop(&numbers);
    return 0;
}

/* A capacity whose byte size would overflow size_t, and one whose doubling would, each refused
 * without allocating, the vector unchanged. */
static int vec_overflow_check(void) {
    struct vec huge = {
        .items = NULL, .len = SIZE_MAX / 2, .capacity = SIZE_MAX / 2, .item_size = 4};
    char item[4] = {0};
    ASSERT_TRUE(!vec_push(&huge, item));
    ASSERT_TRUE(fake_heap_live_blocks() == 0);
    /* A capacity whose doubling itself wraps: bytes of one byte each, so only the doubling can. */
    struct vec wrapping = {
        .items = NULL, .len = SIZE_MAX / 2 + 1, .capacity = SIZE_MAX / 2 + 1, .item_size = 1};
    ASSERT_TRUE(!vec_push(&wrapping, item));
    ASSERT_TRUE(wrapping.capacity == SIZE_MAX / 2 + 1 && wrapping.len == SIZE_MAX / 2 + 1);
    ASSERT_TRUE(fake_heap_live_blocks() == 0);
    return 0;
}

/* A vector of zero-sized items (GNU C's empty struct has sizeof 0), pushed to twice.
 * Expect each push refused, the vector unchanged and nothing allocated: there is no capacity to
 * compute for items of no size. */
static int vec_zero_item_size_check(void) {
    struct vec empty = {.items = NULL, .len = 0, .capacity = 0, .item_size = 0};
    char item = 0;
    ASSERT_FALSE(vec_push(&empty, &item));
    ASSERT_FALSE(vec_push(&empty, &item));
    ASSERT_TRUE(empty.items == NULL && empty.len == 0 && empty.capacity == 0);
    ASSERT_TRUE(fake_heap_live_blocks() == 0);
    return 0;
}

int main(void) {
    int failures = 0;
    RUN_CHECK(failures, box_copies_value_check);
    RUN_CHECK(failures, box_out_of_memory_check);
    RUN_CHECK(failures, vec_grows_check);
    RUN_CHECK(failures, vec_push_own_item_check);
    RUN_CHECK(failures, vec_out_of_range_check);
    RUN_CHECK(failures, vec_out_of_memory_check);
    RUN_CHECK(failures, vec_overflow_check);
    RUN_CHECK(failures, vec_zero_item_size_check);
    return failures == 0 ? 0 : 1;
}
