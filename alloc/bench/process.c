/*
 * alloc/bench/process.c - finding the benchmark workers and running one with its output
 * captured (see process.h).
 */
#define _GNU_SOURCE
#include "alloc/bench/process.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* True when dir holds an executable named probe. */
static bool holds(const char *dir, const char *probe) {
    char path[PATH_MAX + NAME_MAX + 2];
    snprintf(path, sizeof(path), "%s/%s", dir, probe);
    return access(path, X_OK) == 0;
}

bool process_find_workers(const char *argv0, const char *probe, char *dir, size_t cap) {
    char candidates[4][PATH_MAX];
    int count = 0;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash != NULL) {
            *slash = '\0';
            snprintf(candidates[count++], PATH_MAX, "%s", self);
        }
    }
    const char *runfiles = getenv("RUNFILES_DIR");
    if (runfiles != NULL)
        snprintf(candidates[count++], PATH_MAX, "%.3000s/heapkernel/alloc/bench", runfiles);
    snprintf(candidates[count++], PATH_MAX, "%.3000s.runfiles/heapkernel/alloc/bench", argv0);
    snprintf(candidates[count++], PATH_MAX, "alloc/bench");
    for (int i = 0; i < count; i++) {
        if (holds(candidates[i], probe)) {
            snprintf(dir, cap, "%s", candidates[i]);
            return true;
        }
    }
    return false;
}

int process_run_capture(const char *who, char *const argv[], char *buf, size_t cap, FILE *echo) {
    int fd[2];
    if (pipe(fd) != 0) {
        fprintf(stderr, "%s: cannot run %s: pipe: %s\n", who, argv[0], strerror(errno));
        return -1;
    }
    /* Output buffered before the fork would otherwise be written twice, once by the child. */
    fflush(stdout);
    if (echo != NULL)
        fflush(echo);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: cannot run %s: fork: %s\n", who, argv[0], strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return -1;
    }
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        close(fd[0]);
        close(fd[1]);
        execv(argv[0], argv);
        fprintf(stderr, "%s: cannot run %s: %s\n", who, argv[0], strerror(errno));
        _exit(127);
    }
    close(fd[1]);
    size_t len = 0;
    char chunk[4096];
    ssize_t got;
    bool read_failed = false;
    while ((got = read(fd[0], chunk, sizeof(chunk))) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "%s: reading the output of %s: %s\n", who, argv[0], strerror(errno));
            read_failed = true; /* closing the pipe below ends a child still writing (SIGPIPE) */
            break;
        }
        if (echo != NULL)
            fwrite(chunk, 1, (size_t)got, echo);
        size_t room = cap - 1 - len;
        size_t keep = (size_t)got < room ? (size_t)got : room;
        memcpy(buf + len, chunk, keep);
        len += keep;
    }
    buf[len] = '\0';
    close(fd[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "%s: waiting for %s: %s\n", who, argv[0], strerror(errno));
            return -1;
        }
    }
    return WIFEXITED(status) && !read_failed ? WEXITSTATUS(status) : -1;
}
