"""stress_end: the last lines of a stress kernel's console (kernel/stress.c), for the boot tests'
`expect` lists in tests/BUILD.bazel.

    expect = [...] + stress_end(cpus = 3, warnings = 1)

expects the stress's verdict on 3 CPUs (12 threads), then the summary of a run with 2 checks
passed and 1 warning.
"""

# STRESS_THREADS_PER_CPU of kernel/stress.h: the stress runs this many threads per online CPU.
_THREADS_PER_CPU = 4

# The one line the stress prints at the end; ops is STRESS_OPS_TOTAL of kernel/stress.h.
_STRESS_LINE = r"check stress: ok stress: cpus={cpus} threads={threads} ops=16000 irq_ops=[1-9]\d* acquires=\d+ contended=\d+ verdict=ok"

def stress_end(cpus, warnings = 0, errors = 0):
    """The stress's verdict line, then the summary of its two checks (spinlock-try and stress).

    Args:
      cpus: how many CPUs ran the stress.
      warnings: how many WARN lines the kernel printed.
      errors: how many ERROR lines the kernel printed; any fails the run's verdict (kernel/log.c).

    Returns:
      the two expected lines, in their order.
    """
    return [
        _STRESS_LINE.format(
            cpus = cpus,
            threads = _THREADS_PER_CPU * cpus,
        ),
        r"summary: checks=2 failed=0 warnings=%d errors=%d verdict=%s" % (
            warnings,
            errors,
            "FAIL" if errors else "PASS",
        ),
    ]
