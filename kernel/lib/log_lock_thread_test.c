/* Host test of the serial log's lock (log_lock.h) under real threads, as CPUs: each takes the lock,
 * nests once, writes a line of its own into a shared buffer one byte at a time, and gives both
 * levels back, many times over. Every line read back must be one thread's, whole: two holders at
 * once would interleave bytes. Built into CI's ThreadSanitizer step as well, where an ordering too
 * weak for the lock's hand-over (a relaxed release or acquire) is a reported race on the buffer. */
#include "kernel/lib/log_lock.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <time.h>

#define THREADS   4
#define LINES     20000
#define LINE_SIZE 32

static struct log_lock lock = LOG_LOCK_INIT;
static char line[LINE_SIZE]; /* written only under the lock */
static unsigned long torn;   /* lines found mixed, counted under the lock */
static unsigned long lines_written;

static uint64_t monotonic_ns(void *ctx) {
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void yield(void *ctx) {
    (void)ctx;
    sched_yield();
}

/* No takeover here: the bound is never reached by a holder that writes a line. */
static const struct log_lock_wait wait_for_holder = {monotonic_ns, yield, NULL, UINT64_MAX / 2};

static void *write_lines(void *arg) {
    int32_t me = (int32_t)(intptr_t)arg;
    uint32_t depth = 0;
    for (int i = 0; i < LINES; i++) {
        (void)log_lock_take(&lock, me, &depth, (i & 1) != 0, &wait_for_holder);
        (void)log_lock_take(&lock, me, &depth, false, &wait_for_holder); /* a nested line */
        for (int b = 0; b < LINE_SIZE; b++) {
            line[b] = (char)('a' + me);
        }
        for (int b = 1; b < LINE_SIZE; b++) {
            torn += line[b] != line[0];
        }
        lines_written++;
        log_lock_give(&lock, me, &depth);
        log_lock_give(&lock, me, &depth);
    }
    return NULL;
}

int main(void) {
    pthread_t threads[THREADS];
    for (intptr_t t = 0; t < THREADS; t++) {
        if (pthread_create(&threads[t], NULL, write_lines, (void *)t) != 0) {
            fprintf(stderr, "log_lock_thread_test: cannot create thread %ld\n", (long)t);
            return 1;
        }
    }
    for (int t = 0; t < THREADS; t++) {
        pthread_join(threads[t], NULL);
    }
    bool passed = torn == 0 && lines_written == (unsigned long)THREADS * LINES &&
                  lock.holder == LOG_LOCK_NO_HOLDER;
    printf("%s log_lock_thread_test: %d threads, %lu lines written (expected %lu), %lu bytes of "
           "another line found, lock %s at the end\n",
           passed ? "ok  " : "FAIL", THREADS, lines_written, (unsigned long)THREADS * LINES, torn,
           lock.holder == LOG_LOCK_NO_HOLDER ? "free" : "HELD");
    return passed ? 0 : 1;
}
