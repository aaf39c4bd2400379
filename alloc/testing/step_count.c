/* alloc/testing/step_count.c - see step_count.h. */
#include "alloc/testing/step_count.h"

#include <signal.h>
#include <stddef.h>
#include <sys/ptrace.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* The child's exit statuses besides 0. */
enum { CHILD_NO_TRACE = 3, CHILD_WRONG_PATH = 4 };

/*
 * Waits for pid; true if it stopped. *gone says whether it is no more: the wait reaped it (it
 * exited or was killed), so its pid may be another process's by now.
 */
static bool stopped(pid_t pid, int *status, bool *gone) {
    pid_t got = waitpid(pid, status, 0);
    *gone = got == pid && (WIFEXITED(*status) || WIFSIGNALED(*status));
    return got == pid && WIFSTOPPED(*status);
}

/* Ends a child that went wrong: killed and reaped unless it is gone already. Returns
 * STEP_COUNT_FAILED. */
static long abandon(pid_t pid, bool gone) {
    if (!gone) {
        int status;
        kill(pid, SIGKILL);
        (void)waitpid(pid, &status, 0);
    }
    return STEP_COUNT_FAILED;
}

long step_count(void (*call)(void), bool (*after)(void (*call)(void))) {
    pid_t pid = fork();
    if (pid < 0)
        return STEP_COUNT_FAILED;
    if (pid == 0) {
        if (ptrace(PTRACE_TRACEME, 0, NULL, NULL) != 0)
            _exit(CHILD_NO_TRACE);
        raise(SIGSTOP);
        call();
        raise(SIGSTOP);
        _exit(after == NULL || after(call) ? 0 : CHILD_WRONG_PATH);
    }
    int status = 0;
    bool gone = false;
    if (!stopped(pid, &status, &gone))
        return abandon(pid, gone);
    long steps = 0;
    for (;;) {
        if (ptrace(PTRACE_SINGLESTEP, pid, NULL, NULL) != 0 || !stopped(pid, &status, &gone))
            return abandon(pid, gone);
        if (WSTOPSIG(status) == SIGSTOP)
            break;
        if (WSTOPSIG(status) != SIGTRAP) /* a fault in the call: stepping on would rerun it */
            return abandon(pid, false);
        steps++;
    }
    if (ptrace(PTRACE_CONT, pid, NULL, NULL) != 0)
        return abandon(pid, false);
    if (stopped(pid, &status, &gone) || !gone || !WIFEXITED(status))
        return abandon(pid, gone); /* after() faulted, say: the child stopped, not exited */
    if (WEXITSTATUS(status) == CHILD_WRONG_PATH)
        return STEP_COUNT_WRONG_PATH;
    return WEXITSTATUS(status) == 0 ? steps : STEP_COUNT_FAILED;
}
